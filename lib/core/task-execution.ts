import type { Task } from './task.js';
import type { RunOutcome } from './task-states.js';

/** Runs a task that has started, one way or another: here, or handed to a queue. */
export interface TaskExecution {
  execute(task: Task): void;
}

/** What an execution tells the runner. */
export interface ExecutionEnd {
  /**
   * The task ran to `outcome`, with `error` when it failed, timed out or was
   * cancelled. `overdue`: it ended while its body goes on, keeping its slot until
   * {@link overdueReturned}.
   */
  ended(task: Task, outcome: RunOutcome, error?: unknown, overdue?: boolean): void;
  /** The body of a task that timed out has returned at last. */
  overdueReturned(task: Task): void;
}
