import { REQUESTED_TOO_LATE } from '../background-tasks.messages.js';
import { ScopedBackgroundTasks } from '../core/scoped-background-tasks.js';
import type { TaskOrigin } from '../core/task-owner.js';
import type { TaskRunner } from '../core/task-runner.js';

/** Where a message's transport context keeps its tasks; `null` once its handler started without them. */
const MESSAGE_TASKS = Symbol('nestjs-background-tasks:message-tasks');

interface TaskCarrier {
  [MESSAGE_TASKS]?: ScopedBackgroundTasks | null;
}

/** The tasks kept on a message's context: `undefined` if nothing asked yet, `null` if too late to ask. */
export function peekMessageTasks(messageContext: object): ScopedBackgroundTasks | null | undefined {
  return (messageContext as TaskCarrier)[MESSAGE_TASKS];
}

/**
 * Records that a message's handler started without anything having asked
 * for tasks, so that no interceptor is watching it.
 */
export function markWithoutTasks(messageContext: object): void {
  (messageContext as TaskCarrier)[MESSAGE_TASKS] = null;
}

/**
 * The one {@link ScopedBackgroundTasks} of a message, created on first use,
 * before its handler starts: what the REQUEST-scoped provider and
 * `@Background()` return.
 */
export function messageTasksOf(messageContext: object, runner: TaskRunner, origin: TaskOrigin): ScopedBackgroundTasks {
  const tasks = (messageContext as TaskCarrier)[MESSAGE_TASKS];
  if (tasks) return tasks;
  if (tasks === null) throw new Error(REQUESTED_TOO_LATE);
  return ((messageContext as TaskCarrier)[MESSAGE_TASKS] = new ScopedBackgroundTasks(runner, origin));
}
