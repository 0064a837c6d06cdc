import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { BackgroundTasksQueueFullException } from './background-tasks-queue-full.exception.js';
import { BACKGROUND_TASKS_MODULE_OPTIONS } from './background-tasks.module-definition.js';
import { resolveOptions, type ResolvedBackgroundTasksOptions } from './background-tasks.options.js';
import type { BackgroundTasks } from './background-tasks.service.js';
import type { BackgroundTask } from './background-task.js';
import type { BackgroundTaskCancelReason, BackgroundTaskDropReason } from './interfaces/background-task-event.interface.js';
import type { BackgroundTaskStats } from './interfaces/background-task-stats.interface.js';
import type { BackgroundTasksModuleOptions } from './interfaces/background-tasks-module-options.interface.js';
import { TaskList } from './task-list.js';
import { TaskReporter } from './task-reporter.js';
import { isThenable } from './utils/is-thenable.js';

type Outcome = 'succeeded' | 'failed' | 'timed-out';
type Counters = { -readonly [K in keyof BackgroundTaskStats]: BackgroundTaskStats[K] };

/**
 * Runs the tasks of finished requests: each request's tasks one after
 * another (or side by side, if it asked to be `concurrent`), different
 * requests side by side, at most `concurrency` at once. Counts every task
 * from the moment it is added, so that {@link stats}, {@link whenIdle} and
 * shutdown see it.
 */
@Injectable()
export class BackgroundTaskRunner implements BeforeApplicationShutdown, OnApplicationShutdown {
  /** @internal */
  readonly options: ResolvedBackgroundTasksOptions;
  private readonly reporter: TaskReporter;
  /** Durations are for the hooks that report them; nothing else needs the clock. */
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
  /** Tasks of requests that are done, not ended yet: what shutdown waits for before the server closes. */
  private released = 0;
  private idleWaiters: Array<{ readonly idle: () => boolean; readonly resolve: () => void }> = [];
  private shutdownDeadline?: number;

  constructor(@Inject(BACKGROUND_TASKS_MODULE_OPTIONS) options: BackgroundTasksModuleOptions = {}) {
    this.options = resolveOptions(options);
    this.reporter = new TaskReporter(this.options);
    const { onTaskSucceeded, onTaskFailed, onTaskTimedOut } = this.options;
    this.timesTasks = onTaskSucceeded !== undefined || onTaskFailed !== undefined || onTaskTimedOut !== undefined;
  }

  /** A snapshot of the task counters. */
  stats(): BackgroundTaskStats {
    return { ...this.counters };
  }

  /**
   * Resolves once no task is queued or running: every task added so far,
   * including those of requests whose responses are still being sent, has
   * ended. In e2e tests, await it after the requests.
   *
   * @example
   * ```ts
   * await request(app.getHttpServer()).post('/signup').expect(201);
   * await app.get(BackgroundTaskRunner).whenIdle();
   * expect(mailer.sent).toHaveLength(1);
   * ```
   */
  whenIdle(): Promise<void> {
    return this.waitUntil(this.isIdle);
  }

  /**
   * @internal Counts a task the moment it is added, applying `maxQueued`.
   * Returns false when the task was dropped instead.
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

  /** @internal Takes over the tasks of a request that is done. */
  settle(tasks: BackgroundTasks): void {
    this.released += tasks.pending;
    this.release(tasks);
  }

  /** @internal Starts, or drops, the queued tasks of a request that is done. */
  release(tasks: BackgroundTasks): void {
    const { mode } = this.options;
    if (mode === 'disabled' || tasks.outcome === 'failed') {
      const reason = mode === 'disabled' ? 'disabled' : 'request-failed';
      for (const task of tasks.queued()) {
        if (reason === 'disabled' || !task.always) this.drop(task, reason);
      }
    }
    if (tasks.concurrent) {
      for (const task of tasks.takeAll()) this.runWhenSlotFree(task);
    } else if (!tasks.draining) {
      tasks.draining = true;
      this.drain(tasks);
    }
  }

  /** @internal Ends a task that has not started. */
  cancel(task: BackgroundTask, reason: BackgroundTaskCancelReason): void {
    this.unlink(task, 'cancelled');
    this.counters.cancelled++;
    this.reporter.emit('onTaskCancelled', task, { reason });
    this.ended(task);
  }

  /**
   * Runs a request's tasks one after another: synchronously as long as they
   * are, and on from the end of the first that is async (or waits for a slot).
   */
  private drain(tasks: BackgroundTasks): void {
    for (let task = tasks.takeNext(); task !== undefined; task = tasks.takeNext()) {
      if (this.runWhenSlotFree(task, tasks)) return;
    }
    tasks.draining = false;
  }

  /**
   * Starts the task now, or once a slot is free. Returns whether it ends
   * later (it is async, or waits), in which case `sequence` drains on then.
   */
  private runWhenSlotFree(task: BackgroundTask, sequence?: BackgroundTasks): boolean {
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
  private start(task: BackgroundTask, sequence?: BackgroundTasks): boolean {
    this.unlink(task, 'running');
    this.counters.running++;
    this.running.push(task);
    if (this.timesTasks) task.startedAt = performance.now();
    this.reporter.emit('onTaskStarted', task);
    let result: unknown;
    try {
      result = task.invoke();
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
    } else {
      task.controller?.abort(error);
      this.counters.timedOut++;
      this.reporter.timedOut(task, error as DOMException, duration);
    }
    this.ended(task);
  }

  private drop(task: BackgroundTask, reason: BackgroundTaskDropReason): void {
    this.unlink(task, 'dropped');
    this.counters.dropped++;
    this.reporter.dropped(task, reason);
    this.ended(task);
  }

  private enqueue(task: BackgroundTask): void {
    this.queued.push(task);
    this.counters.queued++;
    task.owner.pending++;
    if (task.owner.settled) this.released++;
    this.reporter.emit('onTaskQueued', task);
  }

  /** Takes a task out of the queued list, into its next state. */
  private unlink(task: BackgroundTask, state: BackgroundTask['state']): void {
    this.queued.remove(task);
    task.state = state;
    this.counters.queued--;
  }

  private ended(task: BackgroundTask): void {
    if (task.owner.settled) this.released--;
    task.owner.taskEnded();
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

  async beforeApplicationShutdown(): Promise<void> {
    // Nest runs this phase on global modules last, but still before any
    // onApplicationShutdown hook: drain here, ahead of those. Requests in
    // flight may take long; their tasks wait until the server has closed.
    await this.waitForIdle(this.isReleasedIdle);
  }

  async onApplicationShutdown(): Promise<void> {
    // The HTTP server has closed: drain the tasks of requests that were still in flight.
    const idle = await this.waitForIdle(this.isIdle);
    this.shutdownDeadline = undefined;
    if (!idle) this.abandonUnfinished();
  }

  /** Resolves `true` once idle, or `false` at the shutdown deadline. */
  private async waitForIdle(isIdle: () => boolean): Promise<boolean> {
    this.shutdownDeadline ??= Date.now() + this.options.shutdownTimeout;
    if (isIdle()) return true;
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
    const entries: string[] = [];
    for (const task of this.running) entries.push(`"${task.name}" (running, ${task.owner.method} ${task.owner.path})`);
    for (const task of this.queued) entries.push(`"${task.name}" (queued, ${task.owner.method} ${task.owner.path})`);
    this.reporter.warn(
      `Shutdown timeout of ${this.options.shutdownTimeout} ms expired; running tasks have their signal aborted, queued ones are dropped: ${entries.join(', ')}`,
    );
    for (const task of this.running) {
      task.controller?.abort(new DOMException('The application is shutting down.', 'AbortError'));
    }
    while (this.queued.first !== undefined) this.drop(this.queued.first, 'shutdown');
  }
}

function timeoutError(task: BackgroundTask): DOMException {
  return new DOMException(`Background task "${task.name}" timed out after ${task.timeout} ms.`, 'TimeoutError');
}
