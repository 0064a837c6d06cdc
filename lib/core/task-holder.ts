import type { Task } from './task.js';

/**
 * Holds the tasks added while something that they depend on is still open,
 * such as a database transaction, and lets each go through
 * `TaskRunner.letGo()` once it has ended. Set with `TaskRunner.setHolder()`:
 * the core knows nothing of what it follows.
 */
export interface TaskHolder {
  /**
   * Called for each task as it is accepted, in the async context of the code
   * that added it: whether it takes the task, which then waits, counted as
   * queued, until let go.
   */
  hold(task: Task): boolean;
}
