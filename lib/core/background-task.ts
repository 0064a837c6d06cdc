import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { TaskBatch } from './task-batch.js';
import type { TaskHandler } from './task-handlers.js';

export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'timed-out' | 'dropped' | 'cancelled' | 'dispatched';

/** One task, from `addTask()` to its end: what the runner runs and counts. */
export class BackgroundTask {
  state: TaskState = 'queued';
  /** Neighbours in the runner's list of queued, or of running, tasks. */
  previous?: BackgroundTask;
  next?: BackgroundTask;
  /** The next task of its batch, while both wait for their request to be done. */
  nextInBatch?: BackgroundTask;
  /** Only tasks that receive a context get one, when they start. */
  controller?: AbortController;
  /** When it was added and started, for inspection and the durations that hooks report. */
  readonly addedAt = performance.now();
  startedAt = 0;
  /** The async context of the code that added the task, which it runs in. */
  private readonly scope = new AsyncResource('BackgroundTask');

  constructor(
    readonly fn: (...args: never[]) => unknown,
    readonly args: readonly unknown[],
    readonly batch: TaskBatch<BackgroundTask>,
    /** The `name` option, which replacement and `cancel()` go by. */
    readonly givenName: string | undefined,
    readonly always: boolean,
    readonly timeout: number,
    /** Added through `addTaskWithOptions()`: called with a context first. */
    readonly takesContext: boolean,
    /** Set when `fn` is a `@BackgroundTask()` method: it runs on its provider, or as a job. */
    readonly handler?: TaskHandler,
  ) {}

  get name(): string {
    return this.givenName ?? this.handler?.name ?? (this.fn.name || 'anonymous');
  }

  /** Calls the task in the async context it was added in, on its provider if it is a handler. */
  invoke(): unknown {
    const fn = this.fn as (...args: unknown[]) => unknown;
    const self = this.handler?.instance;
    if (!this.takesContext) return this.scope.runInAsyncScope(fn, self, ...this.args);
    this.controller = new AbortController();
    const context = { signal: this.controller.signal, name: this.name };
    return this.scope.runInAsyncScope(fn, self, context, ...this.args);
  }
}
