import type { BackgroundTaskRunner } from './task-runner.js';

/** A task function and the arguments it will be called with. */
export interface BackgroundTask {
  readonly fn: (...args: never[]) => unknown;
  readonly args: readonly unknown[];
}

/**
 * The background tasks of one request: FastAPI's `BackgroundTasks`.
 *
 * Everything that handles a request (controller, services, guards, pipes,
 * interceptors, `@Background()` parameters) gets the same instance. Its
 * tasks run one after another, in the order added, once the response has
 * been sent, and only when the request succeeded.
 */
export class BackgroundTasks {
  /** @internal Tasks not started yet, in order. */
  readonly queue: BackgroundTask[] = [];
  /** @internal Set by the interceptor that will flush this request. */
  claimed = false;
  /** @internal Set once the response is done; new tasks then start at once. */
  runner?: BackgroundTaskRunner;
  /** @internal True while the runner works through the queue. */
  running = false;
  /** @internal The task being run, if any. */
  current?: BackgroundTask;
  /** @internal */
  method = '';
  /** @internal */
  path = '';

  /**
   * Schedules `fn(...args)` to run after the response has been sent.
   * The arguments are type-checked against `fn`'s parameters. `fn` may be
   * sync or async; a returned promise is awaited before the next task
   * starts, and any other return value is ignored.
   *
   * @throws {TypeError} when `fn` is not a function.
   */
  addTask<Args extends unknown[]>(fn: (...args: Args) => unknown, ...args: NoInfer<Args>): void {
    if (typeof fn !== 'function') {
      throw new TypeError(`BackgroundTasks.addTask() expects a function as its first argument, got ${describe(fn)}.`);
    }
    this.queue.push({ fn, args } as BackgroundTask);
    if (this.runner !== undefined && !this.running) {
      this.runner.run(this);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  return `${typeof value} (${String(value)})`;
}
