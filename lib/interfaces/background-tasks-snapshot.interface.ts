import type { BackgroundTaskTransport } from './background-task-event.interface.js';

/** One queued, running or overdue task, as {@link BackgroundTasksMonitor.inspect} lists it. */
export interface BackgroundTaskInfo {
  /** The task's `name` option, its function's name, or `"anonymous"`. */
  readonly name: string;
  /** `overdue`: it timed out, and still runs in its slot until it returns. */
  readonly state: 'queued' | 'running' | 'overdue';
  /** What added the task, as in {@link BackgroundTaskEvent}. */
  readonly transport: BackgroundTaskTransport;
  readonly method: string;
  readonly path: string;
  /** Milliseconds since the task was added. */
  readonly age: number;
  /** Milliseconds since the task started: running and overdue tasks only. */
  readonly runningFor?: number;
}

/** The tasks in one state: how many there are, and the oldest of them. */
export interface BackgroundTaskList {
  readonly total: number;
  /** Oldest first, at most the limit given to `inspect()`. */
  readonly tasks: readonly BackgroundTaskInfo[];
}

/** What {@link BackgroundTasksMonitor.inspect} returns: a snapshot, taken when called. */
export interface BackgroundTasksSnapshot {
  readonly queued: BackgroundTaskList;
  readonly running: BackgroundTaskList;
  readonly overdue: BackgroundTaskList;
}
