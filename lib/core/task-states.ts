import { performance } from 'node:perf_hooks';
import type { BackgroundTaskStats } from '../interfaces/background-task-stats.interface.js';
import type { BackgroundTaskInfo, BackgroundTasksSnapshot } from '../interfaces/background-tasks-snapshot.interface.js';
import type { Task } from './task.js';
import type { TaskBatch } from './task-batch.js';
import { TaskList } from './task-list.js';

/** How a task that started ended: a running thread task can be cancelled. */
export type RunOutcome = 'succeeded' | 'failed' | 'timed-out' | 'dispatched' | 'dropped' | 'cancelled';

type Counters = { -readonly [K in Exclude<keyof BackgroundTaskStats, 'jobs'>]: number };

/** The counter each outcome adds to: a dispatched task is counted by the job tracker. */
const COUNTER_OF = {
  succeeded: 'succeeded',
  failed: 'failed',
  'timed-out': 'timedOut',
  dropped: 'dropped',
  cancelled: 'cancelled',
  dispatched: undefined,
} as const;

/**
 * Where every task is, and how many ended how: the one writer of a task's
 * `state`, of the lists of queued, running and overdue tasks, and of the
 * counters that `stats()` reports. Resolves the waits for idleness.
 */
export class TaskStates {
  /** Oldest first: overflow drops the first, shutdown drops them all. */
  readonly queued = new TaskList();
  /** Oldest first: shutdown aborts them. */
  readonly running = new TaskList();
  /** Timed out (or cancelled), but their bodies still run and keep their slots. */
  private readonly overdue = new TaskList();
  private readonly counters: Counters = {
    queued: 0,
    running: 0,
    overdue: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    dropped: 0,
    cancelled: 0,
  };
  /** Tasks of settled batches that have not ended: what the first phase of shutdown waits for. */
  private released = 0;
  private idleWaiters: Array<{ readonly idle: () => boolean; readonly resolve: () => void }> = [];

  get queuedCount(): number {
    return this.counters.queued;
  }

  stats(): Omit<BackgroundTaskStats, 'jobs'> {
    return { ...this.counters };
  }

  /** The oldest `limit` tasks of each state, and how many there are. */
  inspect(limit: number): BackgroundTasksSnapshot {
    const now = performance.now();
    const { queued, running, overdue } = this.counters;
    return {
      queued: { total: queued, tasks: infoOf(this.queued, 'queued', limit, now) },
      running: { total: running, tasks: infoOf(this.running, 'running', limit, now) },
      overdue: { total: overdue, tasks: infoOf(this.overdue, 'overdue', limit, now) },
    };
  }

  /** The task was accepted into its batch. */
  added(task: Task): void {
    this.queued.push(task);
    this.counters.queued++;
    if (task.batch.settled) this.released++;
  }

  /** The batch has settled: its tasks are the runner's to run, and shutdown's to wait for. */
  settled(batch: TaskBatch<Task>): void {
    this.released += batch.unfinished;
  }

  started(task: Task): void {
    this.leaveQueued(task, 'running');
    this.counters.running++;
    this.running.push(task);
    task.startedAt = performance.now();
  }

  /** It ended without starting. */
  endedQueued(task: Task, state: 'dropped' | 'cancelled'): void {
    this.leaveQueued(task, state);
    this.counters[state]++;
    this.ended(task);
  }

  /** It ran to `outcome`. `overdue`: it timed out or was cancelled, and its body goes on, in its slot. */
  endedRunning(task: Task, outcome: RunOutcome, overdue: boolean): void {
    this.running.remove(task);
    this.counters.running--;
    task.state = outcome;
    const counter = COUNTER_OF[outcome];
    if (counter !== undefined) this.counters[counter]++;
    if (overdue) {
      task.overdue = true;
      this.overdue.push(task);
      this.counters.overdue++;
    }
    this.ended(task);
  }

  /** The body of an overdue task has returned. */
  overdueReturned(task: Task): void {
    task.overdue = false;
    this.overdue.remove(task);
    this.counters.overdue--;
    this.notify();
  }

  /** Nothing queued, running or overdue. */
  readonly isIdle = (): boolean => this.counters.queued === 0 && this.counters.running === 0 && this.counters.overdue === 0;

  /** Nothing of a settled batch left: only the tasks of requests still in flight, if any. */
  readonly isReleasedIdle = (): boolean => this.released === 0 && this.counters.overdue === 0;

  /** Resolves once `idle()` holds, checked whenever a task ends. */
  whenIdle(idle: () => boolean = this.isIdle): Promise<void> {
    if (idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push({ idle, resolve }));
  }

  private leaveQueued(task: Task, state: Task['state']): void {
    this.queued.remove(task);
    task.batch.noLongerQueued(task);
    task.state = state;
    this.counters.queued--;
  }

  private ended(task: Task): void {
    if (task.batch.settled) this.released--;
    task.batch.taskEnded();
    this.notify();
  }

  private notify(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = waiters.filter((waiter) => !waiter.idle());
    for (const waiter of waiters) if (waiter.idle()) waiter.resolve();
  }
}

function infoOf(list: TaskList, state: BackgroundTaskInfo['state'], limit: number, now: number): BackgroundTaskInfo[] {
  const tasks: BackgroundTaskInfo[] = [];
  for (let task = list.first; task !== undefined && tasks.length < limit; task = task.next) {
    const { transport, method, path } = task.batch.owner.origin;
    const info = { name: task.name, state, transport, method, path, age: now - task.addedAt } as const;
    tasks.push(state === 'queued' ? info : { ...info, runningFor: now - task.startedAt });
  }
  return tasks;
}
