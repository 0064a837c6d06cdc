import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_TASKS } from './background-tasks.constants.js';
import { checkTimeout } from './background-tasks.options.js';
import { BackgroundTask } from './background-task.js';
import type { BackgroundTaskContext } from './interfaces/background-task-context.interface.js';
import type { BackgroundTaskTransport } from './interfaces/background-task-event.interface.js';
import type { BackgroundTaskOptions } from './interfaces/background-task-options.interface.js';
import type { TaskCarrier } from './request-tasks.js';
import type { BackgroundTaskRunner } from './task-runner.js';
import { httpOrigin, responseOf, type TaskOrigin } from './transports.js';
import { describe } from './utils/describe.js';

/**
 * The background tasks of one request: FastAPI's `BackgroundTasks`.
 *
 * Everything that handles a request (controller, services, guards, pipes,
 * interceptors, `@Background()` parameters) gets the same instance. Its
 * tasks run one after another, in the order added, once the response has
 * been sent, and only when the request succeeded (unless added with
 * `always`).
 */
export class BackgroundTasks {
  /**
   * Runs this request's tasks side by side instead of one after another.
   * Set it before the response is done. The module's `concurrency` still
   * applies.
   */
  concurrent = false;

  /** Tasks not handed to the runner yet, in order; some may have ended meanwhile. */
  private head?: BackgroundTask;
  private tail?: BackgroundTask;
  /** @internal How the request or message ended: decides which tasks run. */
  outcome: 'pending' | 'succeeded' | 'failed' = 'pending';
  /** @internal Set by an interceptor that reports the outcome (messages, inline mode); else the HTTP status decides. */
  claimed = false;
  /** @internal True while the runner works through the queue. */
  draining = false;
  /** @internal Tasks accepted and not ended, for inline mode. */
  pending = 0;
  /** @internal The HTTP response whose end lets the tasks run, and whose status decides the outcome; messages have none. */
  response?: ServerResponse;
  /** @internal Set once the outcome is known and the response is done. */
  settled = false;
  private watched = false;
  private named?: Map<string, BackgroundTask>;
  /** Read for the method and path until the tasks settle, then let go. */
  private request?: object;
  private drainedWaiters?: Array<() => void>;

  /** @internal Created by the module, once per request or message. */
  constructor(
    private readonly runner: BackgroundTaskRunner,
    request: object,
    /** Messages say where they come from; HTTP requests are read when needed. */
    private origin?: TaskOrigin,
  ) {
    this.request = request;
    if (origin !== undefined) return;
    this.response = responseOf(request as IncomingMessage);
    if (this.response === undefined) {
      throw new Error('BackgroundTasks found no response for this HTTP request, so its tasks could never run.');
    }
  }

  /**
   * Schedules `fn(...args)` to run after the response has been sent.
   * The arguments are type-checked against `fn`'s parameters. `fn` may be
   * sync or async; a returned promise is awaited before the next task
   * starts, and any other return value is ignored.
   *
   * @throws {TypeError} when `fn` is not a function.
   * @throws {BackgroundTasksQueueFullException} when the queue is full and `overflow` is `'reject'`.
   */
  addTask<Args extends unknown[]>(fn: (...args: Args) => unknown, ...args: NoInfer<Args>): void {
    if (typeof fn !== 'function') throw notAFunction('addTask', 'first', fn);
    this.add(new BackgroundTask(fn, args, this, undefined, false, this.runner.options.taskTimeout, false));
  }

  /**
   * Like {@link addTask}, with options for this task. `fn` receives a
   * {@link BackgroundTaskContext} (its abort signal and name) before `args`.
   *
   * @example
   * ```ts
   * tasks.addTaskWithOptions(
   *   { name: 'reindex', timeout: 5_000 },
   *   ({ signal }, id: string) => this.search.reindex(id, { signal }),
   *   product.id,
   * );
   * ```
   *
   * @throws {TypeError} when `fn` is not a function, or an option is invalid.
   * @throws {BackgroundTasksQueueFullException} when the queue is full and `overflow` is `'reject'`.
   */
  addTaskWithOptions<Args extends unknown[]>(
    options: BackgroundTaskOptions,
    fn: (context: BackgroundTaskContext, ...args: Args) => unknown,
    ...args: NoInfer<Args>
  ): void {
    const { name, always = false, timeout = this.runner.options.taskTimeout } = checkTaskOptions(options);
    if (typeof fn !== 'function') throw notAFunction('addTaskWithOptions', 'second', fn);
    const task = new BackgroundTask(fn, args, this, name, always, timeout, true);
    if (name !== undefined) {
      const replaced = this.named?.get(name);
      if (replaced?.state === 'queued') this.runner.cancel(replaced, 'replaced');
    }
    if (this.add(task) && name !== undefined) (this.named ??= new Map()).set(name, task);
  }

  /**
   * Cancels the task of this request with that `name` option, if it has not
   * started yet.
   *
   * @returns whether a task was cancelled.
   */
  cancel(name: string): boolean {
    const task = this.named?.get(name);
    if (task?.state !== 'queued') return false;
    this.runner.cancel(task, 'cancelled');
    return true;
  }

  /** @internal */
  get transport(): BackgroundTaskTransport {
    return this.where.transport;
  }

  /** @internal HTTP method of the request. */
  get method(): string {
    return this.where.method;
  }

  /** @internal Path of the request, without its query string. */
  get path(): string {
    return this.where.path;
  }

  /** Messages say where they come from; an HTTP request is read when an event asks, or when it is let go. */
  private get where(): TaskOrigin {
    return this.origin ?? httpOrigin(this.request!);
  }

  /** @internal Called by the interceptor when a message handler has finished. */
  handlerFinished(succeeded: boolean): void {
    this.outcome = succeeded ? 'succeeded' : 'failed';
    // The reply goes out on the next ticks; there is no response to wait for.
    setImmediate(() => this.settle());
  }

  /** @internal Inline mode: runs the tasks now, and resolves when they have ended. */
  runNow(succeeded: boolean): Promise<void> {
    // The handler's status (@HttpCode(), res.status()) is set by now, and counts as in the default mode.
    const failedStatus = this.response !== undefined && this.response.statusCode >= 400;
    this.outcome = succeeded && !failedStatus ? 'succeeded' : 'failed';
    this.settle();
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drainedWaiters ??= []).push(resolve));
  }

  /** @internal The next task to run, if any. */
  takeNext(): BackgroundTask | undefined {
    let task = this.head;
    while (task !== undefined && task.state !== 'queued') task = task.nextOfRequest;
    this.head = task?.nextOfRequest;
    if (this.head === undefined) this.tail = undefined;
    if (task !== undefined) task.nextOfRequest = undefined;
    return task;
  }

  /** @internal All tasks still to run. */
  takeAll(): BackgroundTask[] {
    const tasks: BackgroundTask[] = [];
    for (let task = this.takeNext(); task !== undefined; task = this.takeNext()) tasks.push(task);
    return tasks;
  }

  /** @internal The tasks still to run, left in place. */
  *queued(): Iterable<BackgroundTask> {
    for (let task = this.head; task !== undefined; task = task.nextOfRequest) if (task.state === 'queued') yield task;
  }

  /** @internal Called by the runner whenever one of this request's tasks ends. */
  taskEnded(): void {
    if (--this.pending > 0 || this.drainedWaiters === undefined) return;
    const waiters = this.drainedWaiters;
    this.drainedWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  /** Returns whether the task was accepted. */
  private add(task: BackgroundTask): boolean {
    if (!this.runner.accept(task)) return false;
    if (this.tail === undefined) this.head = task;
    else this.tail.nextOfRequest = task;
    this.tail = task;
    if (this.settled) this.runner.release(this);
    else if (!this.watched) this.watch();
    return true;
  }

  private watch(): void {
    const response = this.response;
    if (response === undefined) return;
    this.watched = true;
    // 'close' follows 'finish', and is the only event when the client aborted.
    if (response.closed) this.responseClosed();
    else response.on('close', onResponseClose);
  }

  /** @internal The HTTP response has closed: finished, or cut off. */
  responseClosed(): void {
    if (this.outcome === 'pending' && !this.claimed) {
      // No interceptor reports the outcome: the answer Nest writes decides it.
      const response = this.response!;
      if (!response.headersSent && !response.writableEnded) {
        // The client left before Nest answered; Nest still answers, into the closed connection.
        response.once('prefinish', onResponseClose);
        return;
      }
      this.outcome = response.statusCode < 400 ? 'succeeded' : 'failed';
    }
    if (this.outcome !== 'pending') this.settle();
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    // Tasks may outlive their request by far: keep what events need, not the request and response.
    this.origin ??= httpOrigin(this.request!);
    this.request = this.response = undefined;
    this.runner.settle(this);
  }
}

/** One listener for every response, rather than a closure per request: on 'close', and on a late 'prefinish'. */
function onResponseClose(this: ServerResponse): void {
  (this.req as TaskCarrier)[REQUEST_TASKS]!.responseClosed();
}

function notAFunction(method: string, position: string, value: unknown): TypeError {
  return new TypeError(`BackgroundTasks.${method}() expects a function as its ${position} argument, got ${describe(value)}.`);
}

function checkTaskOptions(options: BackgroundTaskOptions): BackgroundTaskOptions {
  const where = 'BackgroundTasks.addTaskWithOptions(): option';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`BackgroundTasks.addTaskWithOptions() expects an options object first, got ${describe(options)}.`);
  }
  const { name, always, timeout } = options;
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new TypeError(`${where} "name" must be a non-empty string, got ${describe(name)}.`);
  }
  if (always !== undefined && typeof always !== 'boolean') {
    throw new TypeError(`${where} "always" must be a boolean, got ${describe(always)}.`);
  }
  if (timeout !== undefined) checkTimeout(timeout, `${where} "timeout"`);
  return options;
}
