import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { NOT_CLONEABLE, RUNNER_BROKE, SHUTTING_DOWN, TASK_CANCELLED, THREAD_POOL_ERROR } from '../background-tasks.messages.js';
import { BackgroundTasksOverflowException } from '../exceptions/background-tasks-overflow.exception.js';
import type { BackgroundTaskCancelReason, BackgroundTaskDropReason } from '../interfaces/background-task-event.interface.js';
import type { BackgroundTaskStats } from '../interfaces/background-task-stats.interface.js';
import type { BackgroundTasksSnapshot } from '../interfaces/background-tasks-snapshot.interface.js';
import type { BackgroundTasksModuleOptions } from '../interfaces/background-tasks-module-options.interface.js';
import { ThreadPool } from '../threads/thread-pool.js';
import { findUncloneable } from '../utils/find-unserialisable.js';
import type { Task } from './task.js';
import { DispatchExecution } from './dispatch-execution.js';
import { InProcessExecution } from './in-process-execution.js';
import { JobTracker } from './job-tracker.js';
import { resolveOptions, type ResolvedBackgroundTasksOptions } from './runner-options.js';
import { ShutdownDrain } from './shutdown-drain.js';
import { SlotPool } from './slot-pool.js';
import type { TaskBatch } from './task-batch.js';
import type { TaskDispatcher } from './task-dispatcher.js';
import type { TaskHolder } from './task-holder.js';
import type { ExecutionEnd, TaskExecution } from './task-execution.js';
import { TaskHandlers } from './task-handlers.js';
import { TaskReporter } from './task-reporter.js';
import { TaskSequencer } from './task-sequence.js';
import { ThreadExecution } from './thread-execution.js';
import { type RunOutcome, TaskStates } from './task-states.js';
import type { TaskTelemetry, TaskTelemetryFactory } from './task-telemetry.js';

type Batch = TaskBatch<Task>;

/**
 * Runs the tasks of finished requests: each request's tasks one after
 * another (or side by side, if it asked to be `concurrent`), different
 * requests side by side, at most `concurrency` at once, and at most
 * `threads.maxThreads` thread tasks. It wires the parts that do the work: the
 * task states and counters, the slots, the sequencer, the executions (here,
 * in a worker thread, or handed to a queue) and the shutdown drain; and
 * it tells the reporter and the telemetry how each task ends.
 */
export class TaskRunner implements BeforeApplicationShutdown, OnApplicationShutdown {
  readonly options: ResolvedBackgroundTasksOptions;
  /** The app's `@BackgroundTaskHandler()` methods, found at startup. */
  readonly handlers = new TaskHandlers();
  /** Queued jobs: those dispatched from here, and those a worker runs here. */
  readonly jobs: JobTracker;
  private readonly reporter: TaskReporter;
  /** Spans and metrics, with the `tracing` option only: without it, the runner calls nothing more. */
  private readonly telemetry?: TaskTelemetry;
  /** Durations are for the hooks that report them; nothing else needs the clock when a task ends. */
  private readonly timesTasks: boolean;
  private readonly states = new TaskStates();
  private readonly slots: SlotPool<Task>;
  /** The threads of thread tasks: one taken before the task waits for its slot, and held as long. */
  private readonly threadSlots: SlotPool<Task>;
  private readonly sequencer = new TaskSequencer<Task>((task) => this.runWhenSlotFree(task));
  private readonly inProcess: InProcessExecution;
  /** Made for the first thread task: the pool loads piscina then. */
  private threads?: { readonly pool: ThreadPool; readonly execution: ThreadExecution };
  /** Set once a queue backend has started: handlers' tasks go to it. */
  private dispatch?: TaskExecution;
  /** Set by `setDispatcher()`: it checks what may go to its queue. */
  private dispatcher?: TaskDispatcher;
  /** Set by `setHolder()`: it holds the tasks added in a database transaction until it ends. */
  private holder?: TaskHolder;
  /** Settled batches whose held tasks were let go this turn: released on the next. */
  private toRelease?: Set<Batch>;
  private readonly drain: ShutdownDrain;
  private closed?: Promise<void>;
  private readonly end: ExecutionEnd = {
    ended: (task, outcome, error, overdue = false) => this.ended(task, outcome, error, overdue),
    overdueReturned: (task) => {
      this.states.overdueReturned(task);
      this.freeSlots(task);
    },
  };

  constructor(options: BackgroundTasksModuleOptions = {}, telemetry?: TaskTelemetryFactory) {
    this.options = resolveOptions(options);
    this.reporter = new TaskReporter(this.options);
    this.telemetry = telemetry?.(() => this.stats());
    this.jobs = new JobTracker(this.reporter, this.telemetry);
    const { onTaskSucceeded, onTaskFailed, onTaskTimedOut, concurrency, shutdownTimeout } = this.options;
    this.timesTasks = onTaskSucceeded !== undefined || onTaskFailed !== undefined || onTaskTimedOut !== undefined;
    this.slots = new SlotPool(concurrency, (task) => this.guarded(task, () => this.slotGranted(task)));
    this.threadSlots = new SlotPool(this.options.threads.maxThreads, (task) =>
      this.guarded(task, () => this.threadSlotGranted(task)),
    );
    this.inProcess = new InProcessExecution(this.end, this.telemetry);
    this.drain = new ShutdownDrain(this.states, this.reporter, shutdownTimeout, () => this.abandonUnfinished());
  }

  /** A snapshot of the task counters, with the `jobs` block once a queue backend is set. */
  stats(): BackgroundTaskStats {
    const jobs = this.jobs.stats();
    const stats = this.states.stats();
    return jobs === undefined ? stats : { ...stats, jobs };
  }

  /** Hands the tasks of handlers to a queue from now on. */
  setDispatcher(dispatcher: TaskDispatcher): void {
    this.dispatcher = dispatcher;
    const guard = (task: Task, fn: () => void) => this.guarded(task, fn);
    this.dispatch = new DispatchExecution(dispatcher, this.inProcess, this.end, this.reporter, guard, this.telemetry);
    this.jobs.enable();
  }

  /** Lets `holder` hold each task added from now on, if it wants to: see {@link letGo}. */
  setHolder(holder: TaskHolder): void {
    this.holder = holder;
  }

  /**
   * A held task's transaction has ended. Committed (or rolled back, for an
   * `always` task), it goes on as if it had been added now: after the
   * response, or at once if the response has been sent. Rolled back, it is
   * dropped (`'transaction-rolled-back'`). A task that ended meanwhile
   * (cancelled, replaced, dropped at shutdown) stays as it is.
   */
  letGo(task: Task, committed: boolean): void {
    if (task.state !== 'queued') return;
    if (!committed && !task.always) return this.drop(task, 'transaction-rolled-back');
    const batch = task.batch;
    batch.link(task);
    if (!batch.settled) return;
    // On a later turn, as for AppBackgroundTasks: a sync task never runs on the stack of the code that committed.
    if (this.toRelease === undefined) {
      this.toRelease = new Set();
      setImmediate(() => {
        const batches = this.toRelease!;
        this.toRelease = undefined;
        for (const settled of batches) this.release(settled);
      });
    }
    this.toRelease.add(batch);
  }

  /**
   * Checks, at `addTask()`, that the task can go where it will run: a
   * thread task's arguments must survive the copy to its thread; and the
   * queue backend's rules, once there is one.
   *
   * @throws {TypeError} naming the task and the problem.
   */
  admit(task: Task): void {
    if (task.thread !== undefined) {
      for (let i = 0; i < task.args.length; i++) {
        const found = findUncloneable(task.args[i]);
        if (found !== undefined) throw new TypeError(NOT_CLONEABLE(task.name, i + 1, found.path, found.what));
      }
    }
    this.dispatcher?.admit(task);
  }

  /** Resolves once no task is queued, running or overdue. */
  whenIdle(): Promise<void> {
    return this.states.whenIdle();
  }

  /** The oldest `limit` queued, running and overdue tasks, and how many there are. */
  inspect(limit: number): BackgroundTasksSnapshot {
    return this.states.inspect(limit);
  }

  /**
   * Counts a task the moment it is added, applying `maxQueued`, and queues it
   * in its batch. Returns false when the task was dropped instead.
   */
  accept(task: Task): boolean {
    const { maxQueued, overflow } = this.options;
    if (this.states.queuedCount >= maxQueued) {
      if (overflow === 'reject') throw new BackgroundTasksOverflowException(task.name, maxQueued);
      if (overflow === 'drop-oldest') {
        this.drop(this.states.queued.first!, 'overflow');
      } else {
        this.add(task);
        this.drop(task, 'overflow');
        return false;
      }
    }
    this.add(task);
    return true;
  }

  /** Takes over the tasks of a request or message that is done; the outcome decides which run. Once only. */
  settle(batch: Batch, outcome: 'succeeded' | 'failed'): void {
    if (batch.settled) return;
    batch.outcome = outcome;
    this.states.settled(batch);
    this.release(batch);
  }

  /** Starts, or drops, the queued tasks of a settled batch: at settling, and for each task added later. */
  release(batch: Batch): void {
    const { mode } = this.options;
    if (mode === 'disabled') {
      for (const task of batch.queued()) this.drop(task, 'disabled');
    } else if (batch.outcome === 'failed' || batch.grouped) {
      const failed = batch.outcome === 'failed';
      for (const task of batch.queued()) {
        if (!task.always && (failed || task.group?.failed === true)) this.drop(task, 'request-failed');
      }
    }
    if (batch.owner.concurrent) {
      for (let task = batch.takeNext(); task !== undefined; task = batch.takeNext()) this.runWhenSlotFree(task);
    } else {
      this.sequencer.begin(batch);
    }
  }

  /** Ends a task that has not started. */
  cancel(task: Task, reason: BackgroundTaskCancelReason): void {
    this.states.endedQueued(task, 'cancelled');
    this.reporter.emit('onTaskCancelled', task, { reason });
    this.telemetry?.ended(task, reason);
  }

  /**
   * Ends the running thread task of that name in `batch`, if any: reported
   * cancelled now, its thread ended; it keeps its slot until the pool has
   * done so. A task on the event loop cannot be stopped, so it is not cancelled.
   */
  cancelRunning(batch: Batch, name: string): boolean {
    for (let task = this.states.running.first; task !== undefined; task = task.next) {
      if (task.batch === batch && task.givenName === name && task.thread !== undefined) {
        this.ended(task, 'cancelled', new DOMException(TASK_CANCELLED(task.name), 'AbortError'), true);
        return true;
      }
    }
    return false;
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.drain.drainReleased();
  }

  /** The HTTP server has closed: drain the tasks of requests that were still in flight, then report what is left. */
  onApplicationShutdown(): Promise<void> {
    return (this.closed ??= this.drain.drainAll().then(async () => {
      // Drained, or what was left aborted: the threads have nothing more to do.
      await this.threads?.pool.close();
      this.reporter.flush();
      this.telemetry?.close();
    }));
  }

  private add(task: Task): void {
    task.batch.push(task, this.holder?.hold(task) === true);
    this.states.added(task);
    this.reporter.emit('onTaskQueued', task);
  }

  /** A thread task takes a thread first, then a slot: the slots' holders never wait for a thread. */
  private runWhenSlotFree(task: Task): void {
    if (task.thread === undefined) this.runWhenRunnerSlotFree(task);
    else if (this.threadSlots.tryTake()) this.runWhenRunnerSlotFree(task);
    else this.threadSlots.wait(task);
  }

  private runWhenRunnerSlotFree(task: Task): void {
    if (this.slots.tryTake()) this.start(task);
    else this.slots.wait(task);
  }

  /** A thread came for a thread task that waited: it may have been cancelled or dropped meanwhile. */
  private threadSlotGranted(task: Task): void {
    if (task.state === 'queued') return this.runWhenRunnerSlotFree(task);
    this.threadSlots.free();
    if (task.batch.current === task) this.sequencer.next(task.batch);
  }

  /** A slot came for a task that waited: it may have been cancelled or dropped meanwhile. */
  private slotGranted(task: Task): void {
    if (task.state === 'queued') return this.start(task);
    this.freeSlots(task);
    if (task.batch.current === task) this.sequencer.next(task.batch);
  }

  private freeSlots(task: Task): void {
    this.slots.free();
    if (task.thread !== undefined) this.threadSlots.free();
  }

  private start(task: Task): void {
    this.states.started(task);
    this.reporter.emit('onTaskStarted', task);
    const dispatch = this.dispatch;
    if (task.thread !== undefined) this.threadExecution().execute(task);
    else (task.handler !== undefined && dispatch !== undefined ? dispatch : this.inProcess).execute(task);
  }

  private threadExecution(): ThreadExecution {
    if (this.threads === undefined) {
      const pool = new ThreadPool(this.options.threads, (error) => this.reporter.error(THREAD_POOL_ERROR, error));
      this.threads = { pool, execution: new ThreadExecution(this.end, pool, this.telemetry) };
    }
    return this.threads.execution;
  }

  /** A started task ran to `outcome`: reported, and its request's next task starts. */
  private ended(task: Task, outcome: RunOutcome, error: unknown, overdue: boolean): void {
    this.states.endedRunning(task, outcome, overdue);
    if (!overdue) this.freeSlots(task);
    const duration = this.timesTasks ? performance.now() - task.startedAt : 0;
    if (outcome === 'succeeded') {
      this.reporter.emit('onTaskSucceeded', task, { duration });
    } else if (outcome === 'failed') {
      this.reporter.failed(task, error, duration);
    } else if (outcome === 'dispatched') {
      this.jobs.dispatched();
    } else if (outcome === 'dropped') {
      this.reporter.dropped(task, 'enqueue-failed');
    } else if (outcome === 'cancelled') {
      task.controller?.abort(error);
      this.reporter.emit('onTaskCancelled', task, { reason: 'cancelled' });
    } else {
      task.controller?.abort(error);
      this.reporter.timedOut(task, error as DOMException, duration);
      // A task that honours its signal returns within a turn or so: only one that does not is worth a warning.
      if (overdue) setImmediate(this.warnIfOverdue, task);
    }
    this.telemetry?.ended(task, outcome === 'dropped' ? 'enqueue-failed' : outcome === 'cancelled' ? 'cancelled' : error);
    if (task.batch.current === task) this.sequencer.next(task.batch);
  }

  private readonly warnIfOverdue = (task: Task): void => {
    if (task.overdue) this.reporter.overdue(task);
  };

  private drop(task: Task, reason: BackgroundTaskDropReason): void {
    this.states.endedQueued(task, 'dropped');
    this.reporter.dropped(task, reason);
    this.telemetry?.ended(task, reason);
  }

  /** Runs `fn`, which must not throw; if it does, that is a bug: reported, and the task ends as failed rather than stay running. */
  private guarded(task: Task, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.reporter.error(RUNNER_BROKE(task.name), error);
      if (task.state === 'running') this.ended(task, 'failed', error, false);
    }
  }

  /** The shutdown deadline has passed: abort what runs, drop what waits. */
  private abandonUnfinished(): void {
    for (const task of this.states.running) {
      this.telemetry?.abandoned(task);
      task.controller?.abort(new DOMException(SHUTTING_DOWN, 'AbortError'));
    }
    while (this.states.queued.first !== undefined) this.drop(this.states.queued.first, 'shutdown');
  }
}
