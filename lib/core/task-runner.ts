import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import {
  NOT_DURABLE,
  NOT_SERIALISABLE,
  SHUTDOWN_DRAINED,
  SHUTDOWN_EXPIRED,
  SHUTDOWN_WAITING,
  SHUTTING_DOWN,
  TASK_TIMEOUT_ERROR,
} from '../background-tasks.messages.js';
import { BackgroundTasksQueueFullException } from '../exceptions/background-tasks-queue-full.exception.js';
import type { BackgroundTaskCancelReason, BackgroundTaskDropReason } from '../interfaces/background-task-event.interface.js';
import type { BackgroundTaskStats } from '../interfaces/background-task-stats.interface.js';
import type { BackgroundTaskInfo, BackgroundTasksSnapshot } from '../interfaces/background-tasks-snapshot.interface.js';
import type { BackgroundTasksModuleOptions } from '../interfaces/background-tasks-module-options.interface.js';
import { findUnserialisable } from '../utils/find-unserialisable.js';
import { isThenable } from '../utils/is-thenable.js';
import type { BackgroundTask } from './background-task.js';
import { JobTracker } from './job-tracker.js';
import { resolveOptions, type ResolvedBackgroundTasksOptions } from './runner-options.js';
import type { TaskBatch } from './task-batch.js';
import type { DispatchOutcome, TaskDispatcher } from './task-dispatcher.js';
import { TaskHandlers } from './task-handlers.js';
import { TaskList } from './task-list.js';
import { TaskReporter } from './task-reporter.js';
import type { TaskTelemetry, TaskTelemetryFactory } from './task-telemetry.js';

type Outcome = 'succeeded' | 'failed' | 'timed-out' | 'dispatched' | 'dropped';
type Batch = TaskBatch<BackgroundTask>;
type Counters = { -readonly [K in keyof BackgroundTaskStats]: BackgroundTaskStats[K] };

/**
 * Runs the tasks of finished requests: each request's tasks one after
 * another (or side by side, if it asked to be `concurrent`), different
 * requests side by side, at most `concurrency` at once. Counts every task
 * from the moment it is added, so that {@link stats}, {@link whenIdle} and
 * shutdown see it.
 */
export class TaskRunner implements BeforeApplicationShutdown, OnApplicationShutdown {
  readonly options: ResolvedBackgroundTasksOptions;
  /** The app's `@BackgroundTask()` handlers, found at startup. */
  readonly handlers = new TaskHandlers();
  /** Queued jobs: those dispatched from here, and those a worker runs here. */
  readonly jobs: JobTracker;
  /** The queue backend that takes the handlers' tasks, once its module has started. */
  private dispatcher?: TaskDispatcher;
  private readonly reporter: TaskReporter;
  /** Spans and metrics, with the `tracing` option only: without it, the runner calls nothing more. */
  private readonly telemetry?: TaskTelemetry;
  /** Durations are for the hooks that report them; nothing else needs the clock when a task ends. */
  private readonly timesTasks: boolean;
  private readonly counters: Counters = {
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    dropped: 0,
    cancelled: 0,
  };
  /** Queued tasks of every request, oldest first, for `'drop-oldest'` and shutdown. */
  private readonly queued = new TaskList();
  /** For shutdown, which aborts them. */
  private readonly running = new TaskList();
  /** Slots taken by running tasks, and by tasks about to start. */
  private slotsInUse = 0;
  private slotWaiters: Array<() => void> = [];
  /** Tasks of batches that are settled, not ended yet: what shutdown waits for before the server closes. */
  private released = 0;
  private idleWaiters: Array<{ readonly idle: () => boolean; readonly resolve: () => void }> = [];
  private shutdownDeadline?: number;
  /** When shutdown started waiting for tasks, if it had to. */
  private shutdownWaitStart?: number;
  private settledDrained?: Promise<void>;
  private drained?: Promise<void>;

  constructor(options: BackgroundTasksModuleOptions = {}, telemetry?: TaskTelemetryFactory) {
    this.options = resolveOptions(options);
    this.reporter = new TaskReporter(this.options);
    this.telemetry = telemetry?.(() => this.stats());
    this.jobs = new JobTracker(this.reporter, this.telemetry);
    const { onTaskSucceeded, onTaskFailed, onTaskTimedOut } = this.options;
    this.timesTasks = onTaskSucceeded !== undefined || onTaskFailed !== undefined || onTaskTimedOut !== undefined;
  }

  /** A snapshot of the task counters, with the `jobs` block once a queue backend is set. */
  stats(): BackgroundTaskStats {
    const jobs = this.jobs.stats();
    return jobs === undefined ? { ...this.counters } : { ...this.counters, jobs };
  }

  /** Hands the tasks of handlers to a queue from now on. */
  setDispatcher(dispatcher: TaskDispatcher): void {
    this.dispatcher = dispatcher;
    this.jobs.enable();
  }

  /**
   * Checks, at `addTask()`, that the task can go where it will run: with a
   * queue backend, a handler's arguments must survive JSON, and a closure is
   * an error under `requireDurable`.
   *
   * @throws {TypeError} naming the task, the argument and where in it the problem is.
   */
  admit(task: BackgroundTask): void {
    const dispatcher = this.dispatcher;
    if (dispatcher === undefined) return;
    if (task.handler === undefined) {
      if (dispatcher.requireDurable) throw new TypeError(NOT_DURABLE(task.name));
      return;
    }
    for (let i = 0; i < task.args.length; i++) {
      const found = findUnserialisable(task.args[i]);
      if (found !== undefined) throw new TypeError(NOT_SERIALISABLE(task.name, i + 1, found.path, found.what));
    }
  }

  /** Resolves once no task is queued or running. */
  whenIdle(): Promise<void> {
    return this.waitUntil(this.isIdle);
  }

  /** The oldest `limit` queued and running tasks, and how many there are. */
  inspect(limit: number): BackgroundTasksSnapshot {
    const now = performance.now();
    return {
      queued: { total: this.counters.queued, tasks: infoOf(this.queued, limit, now) },
      running: { total: this.counters.running, tasks: infoOf(this.running, limit, now) },
    };
  }

  /**
   * Counts a task the moment it is added, applying `maxQueued`, and queues it
   * in its batch. Returns false when the task was dropped instead.
   */
  accept(task: BackgroundTask): boolean {
    const { maxQueued, overflow } = this.options;
    if (this.counters.queued >= maxQueued) {
      if (overflow === 'reject') throw new BackgroundTasksQueueFullException(task.name, maxQueued);
      if (overflow === 'drop-oldest') {
        this.drop(this.queued.first!, 'overflow');
      } else {
        this.enqueue(task);
        this.drop(task, 'overflow');
        return false;
      }
    }
    this.enqueue(task);
    return true;
  }

  /** Takes over the tasks of a request or message that is done; the outcome decides which run. Once only. */
  settle(batch: Batch, outcome: 'succeeded' | 'failed'): void {
    if (batch.settled) return;
    batch.outcome = outcome;
    this.released += batch.unfinished;
    this.release(batch);
  }

  /** Starts, or drops, the queued tasks of a settled batch: at settling, and for each task added later. */
  release(batch: Batch): void {
    const { mode } = this.options;
    if (mode === 'disabled') {
      for (const task of batch.queued()) this.drop(task, 'disabled');
    } else if (batch.outcome === 'failed' || batch.scoped) {
      const failed = batch.outcome === 'failed';
      for (const task of batch.queued()) {
        if (!task.always && (failed || task.scope?.failed === true)) this.drop(task, 'request-failed');
      }
    }
    if (batch.owner.concurrent) {
      for (let task = batch.takeNext(); task !== undefined; task = batch.takeNext()) this.runWhenSlotFree(task);
    } else if (!batch.draining) {
      batch.draining = true;
      this.drain(batch);
    }
  }

  /** Ends a task that has not started. */
  cancel(task: BackgroundTask, reason: BackgroundTaskCancelReason): void {
    this.unlink(task, 'cancelled');
    this.counters.cancelled++;
    this.reporter.emit('onTaskCancelled', task, { reason });
    this.ended(task, reason);
  }

  /**
   * Runs a request's tasks one after another: synchronously as long as they
   * are, and on from the end of the first that is async (or waits for a slot).
   */
  private drain(batch: Batch): void {
    for (let task = batch.takeNext(); task !== undefined; task = batch.takeNext()) {
      if (this.runWhenSlotFree(task, batch)) return;
    }
    batch.draining = false;
  }

  /**
   * Starts the task now, or once a slot is free. Returns whether it ends
   * later (it is async, or waits), in which case `sequence` drains on then.
   */
  private runWhenSlotFree(task: BackgroundTask, sequence?: Batch): boolean {
    if (this.slotsInUse < this.options.concurrency) {
      this.slotsInUse++;
      return this.start(task, sequence);
    }
    void new Promise<void>((resolve) => this.slotWaiters.push(resolve)).then(() => {
      // It may have been cancelled or dropped while it waited.
      if (task.state !== 'queued') this.releaseSlot();
      else if (this.start(task, sequence)) return;
      if (sequence !== undefined) this.drain(sequence);
    });
    return true;
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    // The slot passes straight to the next waiter, so nothing can take it in between.
    if (next !== undefined) next();
    else this.slotsInUse--;
  }

  /** Runs the task. Returns whether it is async: then it ends, and `sequence` drains on, when it settles. */
  private start(task: BackgroundTask, sequence?: Batch): boolean {
    this.unlink(task, 'running');
    this.counters.running++;
    this.running.push(task);
    task.startedAt = performance.now();
    this.reporter.emit('onTaskStarted', task);
    return this.execute(task, sequence);
  }

  /**
   * Hands the task over for execution: the one point where a task leaves the
   * runner's bookkeeping. A handler's task goes to the queue backend, if
   * there is one; any other runs here. Returns whether it ends later.
   */
  private execute(task: BackgroundTask, sequence?: Batch): boolean {
    const dispatcher = this.dispatcher;
    if (task.handler === undefined || dispatcher === undefined) return this.invoke(task, sequence);
    void dispatcher
      .dispatch(task, this.telemetry?.carrier(task))
      .then((outcome) => this.dispatched(task, outcome, dispatcher, sequence));
    return true;
  }

  /** The queue took the task, or could not: then `onEnqueueFailure` decides. */
  private dispatched(task: BackgroundTask, outcome: DispatchOutcome, dispatcher: TaskDispatcher, sequence?: Batch): void {
    if (outcome === 'failed' && dispatcher.onEnqueueFailure === 'run-in-process') {
      if (this.invoke(task, sequence)) return;
    } else {
      this.finish(task, outcome === 'enqueued' ? 'dispatched' : 'dropped');
    }
    if (sequence !== undefined) this.drain(sequence);
  }

  /** Runs the task here. Returns whether it is async: then it ends, and `sequence` drains on, when it settles. */
  private invoke(task: BackgroundTask, sequence?: Batch): boolean {
    let result: unknown;
    try {
      result = task.invoke(this.telemetry);
    } catch (error) {
      this.finish(task, 'failed', error);
      return false;
    }
    if (!isThenable(result)) {
      this.finish(task, 'succeeded');
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    const end = (outcome: Outcome, error?: unknown) => {
      // A task that timed out may still settle later: it has been reported already.
      if (task.state !== 'running') return;
      clearTimeout(timer);
      this.finish(task, outcome, error);
      if (sequence !== undefined) this.drain(sequence);
    };
    if (task.timeout !== Infinity) timer = setTimeout(() => end('timed-out', timeoutError(task)), task.timeout);
    try {
      result.then(
        () => end('succeeded'),
        (error: unknown) => end('failed', error),
      );
    } catch (error) {
      // A thenable whose then() throws.
      end('failed', error);
    }
    return true;
  }

  private finish(task: BackgroundTask, outcome: Outcome, error?: unknown): void {
    task.state = outcome;
    this.counters.running--;
    this.running.remove(task);
    this.releaseSlot();
    const duration = this.timesTasks ? performance.now() - task.startedAt : 0;
    if (outcome === 'succeeded') {
      this.counters.succeeded++;
      this.reporter.emit('onTaskSucceeded', task, { duration });
    } else if (outcome === 'failed') {
      this.counters.failed++;
      this.reporter.failed(task, error, duration);
    } else if (outcome === 'dispatched') {
      this.jobs.dispatched();
    } else if (outcome === 'dropped') {
      this.countDrop(task, 'enqueue-failed');
    } else {
      task.controller?.abort(error);
      this.counters.timedOut++;
      this.reporter.timedOut(task, error as DOMException, duration);
    }
    this.ended(task, outcome === 'dropped' ? 'enqueue-failed' : error);
  }

  private drop(task: BackgroundTask, reason: BackgroundTaskDropReason): void {
    this.unlink(task, 'dropped');
    this.countDrop(task, reason);
    this.ended(task, reason);
  }

  private countDrop(task: BackgroundTask, reason: BackgroundTaskDropReason): void {
    this.counters.dropped++;
    this.reporter.dropped(task, reason);
  }

  private enqueue(task: BackgroundTask): void {
    this.queued.push(task);
    this.counters.queued++;
    task.batch.push(task);
    if (task.batch.settled) this.released++;
    this.reporter.emit('onTaskQueued', task);
  }

  /** Takes a task out of the queued list, into its next state. */
  private unlink(task: BackgroundTask, state: BackgroundTask['state']): void {
    this.queued.remove(task);
    task.batch.leftQueue(task);
    task.state = state;
    this.counters.queued--;
  }

  /** `detail`: what it failed with, its timeout error, or why it was dropped or cancelled. */
  private ended(task: BackgroundTask, detail?: unknown): void {
    if (task.batch.settled) this.released--;
    task.batch.taskEnded();
    this.telemetry?.ended(task, detail);
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = waiters.filter((waiter) => !waiter.idle());
    for (const waiter of waiters) if (waiter.idle()) waiter.resolve();
  }

  private readonly isIdle = (): boolean => this.counters.queued === 0 && this.counters.running === 0;
  private readonly isReleasedIdle = (): boolean => this.released === 0;

  private waitUntil(idle: () => boolean): Promise<void> {
    if (idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push({ idle, resolve }));
  }

  /**
   * Nest runs this phase on global modules last, but still before any
   * onApplicationShutdown hook: drain here, ahead of those. Requests in
   * flight may take long; their tasks wait until the server has closed.
   * Every import of the module shares this runner, so each phase runs once.
   */
  beforeApplicationShutdown(): Promise<void> {
    return (this.settledDrained ??= this.waitForIdle(this.isReleasedIdle).then(() => undefined));
  }

  /** The HTTP server has closed: drain the tasks of requests that were still in flight. */
  onApplicationShutdown(): Promise<void> {
    return (this.drained ??= this.drainAll());
  }

  private async drainAll(): Promise<void> {
    const idle = await this.waitForIdle(this.isIdle);
    if (!idle) this.abandonUnfinished();
    else if (this.shutdownWaitStart !== undefined) {
      this.reporter.log(SHUTDOWN_DRAINED(Math.round(performance.now() - this.shutdownWaitStart)));
    }
    this.reporter.flush();
    this.telemetry?.close();
  }

  /** Resolves `true` once idle, or `false` at the shutdown deadline, which both phases share. */
  private async waitForIdle(isIdle: () => boolean): Promise<boolean> {
    const { shutdownTimeout } = this.options;
    this.shutdownDeadline ??= Date.now() + shutdownTimeout;
    if (isIdle()) return true;
    if (this.shutdownWaitStart === undefined) {
      this.shutdownWaitStart = performance.now();
      const { queued, running } = this.counters;
      this.reporter.log(SHUTDOWN_WAITING(queued + running, running, shutdownTimeout));
    }
    const idle = this.waitUntil(isIdle).then(() => true as const);
    const remaining = this.shutdownDeadline - Date.now();
    if (remaining === Infinity) return idle;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, remaining), false);
    });
    try {
      return await Promise.race([idle, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The app is going away: abort what runs, drop what waits, and name them all. */
  private abandonUnfinished(): void {
    const { running, queued } = this.inspect(Infinity);
    this.reporter.warn(SHUTDOWN_EXPIRED(this.options.shutdownTimeout, [...running.tasks, ...queued.tasks]));
    for (const task of this.running) {
      this.telemetry?.abandoned(task);
      task.controller?.abort(new DOMException(SHUTTING_DOWN, 'AbortError'));
    }
    while (this.queued.first !== undefined) this.drop(this.queued.first, 'shutdown');
  }
}

function timeoutError(task: BackgroundTask): DOMException {
  return new DOMException(TASK_TIMEOUT_ERROR(task.name, task.timeout), 'TimeoutError');
}

function infoOf(list: TaskList, limit: number, now: number): BackgroundTaskInfo[] {
  const tasks: BackgroundTaskInfo[] = [];
  for (let task = list.first; task !== undefined && tasks.length < limit; task = task.next) {
    const { transport, method, path } = task.batch.owner.origin;
    const state = task.state === 'running' ? 'running' : 'queued';
    const info = { name: task.name, state, transport, method, path, age: now - task.addedAt } as const;
    tasks.push(state === 'running' ? { ...info, runningFor: now - task.startedAt } : info);
  }
  return tasks;
}
