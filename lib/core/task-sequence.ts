import type { BatchedTask, TaskBatch } from './task-batch.js';

/**
 * Runs the tasks of a batch one after another, in the order added: the next
 * starts when the one before it has ended. A sync task ends while it is
 * being started, so the sequence loops instead of recursing: a thousand sync
 * tasks in a row never deepen the stack.
 */
export class TaskSequencer<Task extends BatchedTask<Task>> {
  /** @param start starts a task now, or once it has a slot; the runner calls {@link next} when it ends. */
  constructor(private readonly start: (task: Task) => void) {}

  /** Starts the batch's sequence, unless it is under way. */
  begin(batch: TaskBatch<Task>): void {
    if (batch.current === undefined) this.next(batch);
  }

  /** The batch's current task has ended, or never started: the next one's turn. */
  next(batch: TaskBatch<Task>): void {
    if (batch.stepping) {
      batch.endedWhileStepping = true;
      return;
    }
    batch.stepping = true;
    try {
      do {
        batch.endedWhileStepping = false;
        batch.current = batch.takeNext();
        if (batch.current === undefined) return;
        this.start(batch.current);
      } while (batch.endedWhileStepping);
    } finally {
      batch.stepping = false;
    }
  }
}
