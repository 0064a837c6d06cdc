import type { ThreadTask } from '../threads/thread-task.js';
import type { BackgroundTaskContext } from '../interfaces/background-task-context.interface.js';
import type { BackgroundTaskOptions } from '../interfaces/background-task-options.interface.js';

/**
 * The background tasks of one request: FastAPI's `BackgroundTasks`.
 *
 * Inject it, or take it with `@Background()`. Everything that handles a
 * request (controller, services, guards, pipes, interceptors, `@Background()`
 * parameters) gets the same instance. Its tasks run one after another, in the
 * order added, once the response has been sent, and only when the request
 * succeeded (unless added with `always`). The module creates it; it is
 * abstract so that no code creates one by mistake.
 */
export abstract class BackgroundTasks {
  /**
   * Runs this request's tasks side by side instead of one after another.
   * Set it before the response is done. The module's `concurrency` still
   * applies.
   *
   * @default false
   */
  abstract concurrent: boolean;

  /**
   * Schedules `fn(...args)` to run after the response has been sent.
   * The arguments are type-checked against `fn`'s parameters. `fn` may be
   * sync or async; a returned promise is awaited before the next task
   * starts, and any other return value is ignored. A `threadTask()` handle
   * runs its function in a worker thread, off the event loop.
   *
   * @throws {TypeError} when `fn` is not a function, or a thread task's argument cannot be cloned to its thread.
   * @throws {BackgroundTasksOverflowException} when `maxQueued` tasks are already waiting and `overflow` is `'reject'`.
   */
  abstract addTask<Args extends unknown[]>(fn: ((...args: Args) => unknown) | ThreadTask<Args>, ...args: NoInfer<Args>): void;

  /**
   * Like {@link addTask}, with options for this task. `fn` receives a
   * {@link BackgroundTaskContext} (its abort signal and name) before `args`;
   * a `threadTask()` handle receives none: its thread is ended at its timeout.
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
   * @throws {BackgroundTasksOverflowException} when `maxQueued` tasks are already waiting and `overflow` is `'reject'`.
   */
  abstract addTaskWithOptions<Args extends unknown[]>(
    options: BackgroundTaskOptions,
    fn: ((context: BackgroundTaskContext, ...args: Args) => unknown) | ThreadTask<Args>,
    ...args: NoInfer<Args>
  ): void;

  /**
   * Cancels the task of this request with that `name` option, if it has not
   * started yet, or if it is a thread task that runs: its thread is ended.
   *
   * @returns whether a task was cancelled.
   */
  abstract cancel(name: string): boolean;
}
