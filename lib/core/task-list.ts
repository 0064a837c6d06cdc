import type { Task } from './task.js';

/**
 * The runner's tasks in one state (queued, or running), oldest first,
 * linked through the tasks themselves: joining and leaving allocate nothing.
 * A task is in at most one list at a time.
 */
export class TaskList {
  first?: Task;
  private last?: Task;

  push(task: Task): void {
    task.previous = this.last;
    if (this.last === undefined) this.first = task;
    else this.last.next = task;
    this.last = task;
  }

  remove(task: Task): void {
    const { previous, next } = task;
    if (previous === undefined) this.first = next;
    else previous.next = next;
    if (next === undefined) this.last = previous;
    else next.previous = previous;
    task.previous = task.next = undefined;
  }

  *[Symbol.iterator](): Iterator<Task> {
    for (let task = this.first; task !== undefined; task = task.next) yield task;
  }
}
