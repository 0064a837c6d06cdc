/**
 * Compile-only type test of `BackgroundTasks.addTask` and `addTaskWithOptions`: checked by
 * `tsc -p tsconfig.json`, never run (Jest only picks up *.spec.ts and
 * *.e2e-spec.ts). Each `@ts-expect-error` line has exactly one error, for the
 * reason stated above it.
 */
import type { BackgroundTaskContext, BackgroundTasks } from '../../lib/index.js';

declare const tasks: BackgroundTasks;

// FastAPI's `write_notification(email: str, message="")`.
function writeNotification(email: string, message = ''): void {
  void email;
  void message;
}
async function sendEmail(to: string, subject: string, body: { html: string }): Promise<void> {
  void to;
  void subject;
  void body;
}
function optionalParams(id: number, note?: string, urgent?: boolean): number {
  return note === undefined && urgent === undefined ? id : -id;
}
function restParams(channel: string, ...ids: number[]): void {
  void channel;
  void ids;
}
function identity<T>(value: T): T {
  return value;
}
function noArgs(): void {}
const asyncNoArgs = async (): Promise<string> => 'ignored';

class Mailer {
  private readonly sent: string[] = [];
  send(to: string, retries: number): void {
    this.sent.push(`${to}:${retries}`);
  }
}
declare const mailer: Mailer;

// ---- accepted ---------------------------------------------------------------

tasks.addTask(writeNotification, 'a@b.c');
tasks.addTask(writeNotification, 'a@b.c', 'some notification');
tasks.addTask(sendEmail, 'a@b.c', 'Hello', { html: '<p>Hi</p>' });
tasks.addTask(optionalParams, 1);
tasks.addTask(optionalParams, 1, 'note');
tasks.addTask(optionalParams, 1, 'note', true);
tasks.addTask(optionalParams, 1, undefined, true);
tasks.addTask(restParams, 'orders');
tasks.addTask(restParams, 'orders', 1, 2, 3);
tasks.addTask(identity, 'anything');
tasks.addTask(identity, { deep: [1, 2] });
tasks.addTask(noArgs);
tasks.addTask(asyncNoArgs);
tasks.addTask(mailer.send.bind(mailer), 'a@b.c', 3);
tasks.addTask((n: number) => n * 2, 21);
tasks.addTask(async (flag: boolean) => flag, true);
tasks.addTask(() => {});
// An argument of a narrower type than the parameter is fine.
tasks.addTask((value: string | number) => value, 'narrower');
// addTask returns nothing to chain on.
const returned: void = tasks.addTask(noArgs);
void returned;

// ---- rejected ---------------------------------------------------------------

// Wrong type: a number where `email: string` is expected.
// @ts-expect-error
tasks.addTask(writeNotification, 42);
// Wrong type in the optional (defaulted) parameter.
// @ts-expect-error
tasks.addTask(writeNotification, 'a@b.c', 42);
// Wrong type of an async task's argument.
// @ts-expect-error
tasks.addTask(sendEmail, 'a@b.c', 'Hello', { html: 42 });
// Wrong type of a rest element.
// @ts-expect-error
tasks.addTask(restParams, 'orders', 1, '2');
// Wrong type for a bound method.
// @ts-expect-error
tasks.addTask(mailer.send.bind(mailer), 'a@b.c', 'three');
// Missing argument: `email` is required.
// @ts-expect-error
tasks.addTask(writeNotification);
// Missing argument of an async task.
// @ts-expect-error
tasks.addTask(sendEmail, 'a@b.c', 'Hello');
// Extra argument beyond `(email, message)`.
// @ts-expect-error
tasks.addTask(writeNotification, 'a@b.c', 'message', 'extra');
// Extra argument beyond the optional ones.
// @ts-expect-error
tasks.addTask(optionalParams, 1, 'note', true, 'extra');
// Arguments for a zero-arg function.
// @ts-expect-error
tasks.addTask(noArgs, 'unexpected');
// Arguments for a zero-arg async function.
// @ts-expect-error
tasks.addTask(asyncNoArgs, 1, 2);
// Non-function first argument: a string.
// @ts-expect-error
tasks.addTask('writeNotification', 'a@b.c');
// Non-function first argument: an object.
// @ts-expect-error
tasks.addTask({ run: noArgs });
// Non-function first argument: undefined.
// @ts-expect-error
tasks.addTask(undefined);
// Wrong type for an arrow function's parameter.
// @ts-expect-error
tasks.addTask((n: number) => n * 2, '21');

// ---- addTaskWithOptions: the context comes first, the arguments are checked the same way

function reindex(context: BackgroundTaskContext, id: string, force?: boolean): Promise<void> {
  return fetch(`http://search/${id}?force=${force}`, { signal: context.signal }).then(() => undefined);
}

tasks.addTaskWithOptions({ name: 'reindex', timeout: 5000 }, reindex, 'p-1');
tasks.addTaskWithOptions({ always: true }, reindex, 'p-1', true);
tasks.addTaskWithOptions({}, ({ signal, name }, count: number) => signal.aborted || name.repeat(count), 2);
tasks.addTaskWithOptions({ timeout: Infinity }, () => undefined);
tasks.addTaskWithOptions({ name: 'audit' }, async (_context, user: { id: number }) => user.id, { id: 1 });

// Wrong argument type after the context.
// @ts-expect-error
tasks.addTaskWithOptions({}, reindex, 42);
// Missing argument after the context.
// @ts-expect-error
tasks.addTaskWithOptions({}, reindex);
// Arguments for a task that takes only the context.
// @ts-expect-error
tasks.addTaskWithOptions({}, () => undefined, 'unexpected');
// A task whose first parameter is not the context.
// @ts-expect-error
tasks.addTaskWithOptions({}, (id: string) => id, 'p-1');
// An unknown option.
// @ts-expect-error
tasks.addTaskWithOptions({ retries: 3 }, () => undefined);
// An option of the wrong type.
// @ts-expect-error
tasks.addTaskWithOptions({ always: 'yes' }, () => undefined);
// Options are required: use addTask() without them.
// @ts-expect-error
tasks.addTaskWithOptions(() => undefined);
