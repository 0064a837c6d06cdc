import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { type ThreadTaskDefinition, threadTaskOf } from '../threads/thread-task.js';
import type { TaskBatch } from './task-batch.js';
import type { TaskGroup } from './task-group.js';
import type { TaskHandler } from './task-handlers.js';

export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'timed-out' | 'dropped' | 'cancelled' | 'dispatched';

/** One task, from `addTask()` to its end: what the runner runs and counts. */
export class Task {
  state: TaskState = 'queued';
  /** Timed out, with its body still running in its slot. Written by the runner's task states only. */
  overdue = false;
  /** Neighbours in the runner's list of queued, or of running, tasks. */
  previous?: Task;
  next?: Task;
  /** The next task of its batch, while both wait for their request to be done. */
  nextInBatch?: Task;
  /** The part of its request it was added in (a GraphQL field), whose failure drops it too. */
  group?: TaskGroup;
  /** Set when `fn` is a `threadTask()`: it runs in a worker thread. */
  readonly thread?: ThreadTaskDefinition;
  /** Only tasks that receive a context, and thread tasks, get one, when they start. */
  controller?: AbortController;
  /** When it was added and started, for inspection and the durations that hooks report. */
  readonly addedAt = performance.now();
  startedAt = 0;
  /** What the telemetry, when there is one, keeps of the task while it runs (its span). Only the telemetry reads it. */
  observed?: unknown;
  /** The async context of the code that added the task, which it runs in. */
  private asyncContext = new AsyncResource('BackgroundTask');

  constructor(
    readonly fn: (...args: never[]) => unknown,
    readonly args: readonly unknown[],
    readonly batch: TaskBatch<Task>,
    /** The `name` option, which replacement and `cancel()` go by. */
    readonly givenName: string | undefined,
    readonly always: boolean,
    readonly timeout: number,
    /** Added through `addTaskWithOptions()`: called with a context first. */
    readonly takesContext: boolean,
    /** Set when `fn` is a `@BackgroundTaskHandler()` method: it runs on its provider, or as a job. */
    readonly handler?: TaskHandler,
  ) {
    this.thread = threadTaskOf(fn);
  }

  get name(): string {
    return this.givenName ?? this.handler?.name ?? (this.fn.name || 'anonymous');
  }

  /**
   * Calls the task in the async context it was added in, on its provider if
   * it is a handler, within what `wrapper` runs it in (its span), if given.
   */
  invoke(wrapper?: TaskCallWrapper): unknown {
    const fn = this.fn as (...args: unknown[]) => unknown;
    const self = this.handler?.instance;
    let args = this.args;
    if (this.takesContext) {
      this.controller = new AbortController();
      args = [{ signal: this.controller.signal, name: this.name }, ...args];
    }
    if (wrapper === undefined) return this.asyncContext.runInAsyncScope(fn, self, ...args);
    return this.asyncContext.runInAsyncScope(() => wrapper.run(this, () => fn.call(self, ...args)));
  }

  /** Calls `fn` in the async context the task was added in. */
  inAsyncContext<T>(fn: () => T): T {
    return this.asyncContext.runInAsyncScope(fn);
  }

  /**
   * Makes the caller's async context the one the task runs in: a holder that
   * lets a task go after its transaction calls it in a copy of the task's own
   * context, with the finished transaction taken out.
   */
  rebindAsyncContext(): void {
    this.asyncContext = new AsyncResource('BackgroundTask');
  }
}

/** Runs a task's call inside something of its own, such as the task's span; it returns what the call returned. */
export interface TaskCallWrapper {
  run(task: Task, call: () => unknown): unknown;
}
