import type { TaskOwner } from './task-owner.js';

export type BatchOutcome = 'pending' | 'succeeded' | 'failed';

/** What a batch needs of its tasks, which link themselves into it (a task knows its batch, not the reverse). */
export interface BatchedTask<Task> {
  readonly state: string;
  /** The `name` option, which replacement and `cancel()` go by. */
  readonly givenName?: string;
  readonly group?: { readonly failed: boolean };
  nextInBatch?: Task;
}

/**
 * The tasks of one owner (a request, a message) as the runner sees them:
 * queued in the order added, and counted until they end. Only the runner
 * and its sequencer change it; owners read `settled`.
 */
export class TaskBatch<Task extends BatchedTask<Task>> {
  /** How the request or message ended, which decides what runs; `'pending'` until then. */
  outcome: BatchOutcome = 'pending';
  /** Some task belongs to a group, whose own failure may drop it: see `TaskGroup`. */
  grouped = false;
  /** The task of the sequence that runs, or waits for a slot: see `TaskSequencer`, which alone writes these three. */
  current?: Task;
  /** The sequencer is starting `current`, which may end before that returns. */
  stepping = false;
  endedWhileStepping = false;
  /** Tasks accepted and not ended. */
  private pending = 0;
  /** Tasks not handed to the runner yet, linked through the tasks; some may have ended meanwhile. */
  private head?: Task;
  private tail?: Task;
  private endedWaiters?: Array<() => void>;
  /** Queued tasks by their `name` option: a task leaves it when it leaves the queue, so nothing ended is kept. */
  private named?: Map<string, Task>;

  constructor(readonly owner: TaskOwner) {}

  /** The request or message is done: its tasks are the runner's. */
  get settled(): boolean {
    return this.outcome !== 'pending';
  }

  /** Tasks accepted and not ended. */
  get unfinished(): number {
    return this.pending;
  }

  /** Counts the task in, and queues it unless `held`: a held task is queued by {@link link} once let go. */
  push(task: Task, held = false): void {
    if (!held) this.link(task);
    this.pending++;
    if (task.group !== undefined) this.grouped = true;
    if (task.givenName !== undefined) (this.named ??= new Map()).set(task.givenName, task);
  }

  /** Queues the task after those already queued. */
  link(task: Task): void {
    if (this.tail === undefined) this.head = task;
    else this.tail.nextInBatch = task;
    this.tail = task;
  }

  /** The queued task of that name, if any. */
  queuedNamed(name: string): Task | undefined {
    return this.named?.get(name);
  }

  /** The task has started, or ended without starting. */
  noLongerQueued(task: Task): void {
    if (task.givenName !== undefined && this.named?.get(task.givenName) === task) this.named.delete(task.givenName);
  }

  /** The next task still queued, taken out of the batch. */
  takeNext(): Task | undefined {
    let task = this.head;
    while (task !== undefined && task.state !== 'queued') task = task.nextInBatch;
    this.head = task?.nextInBatch;
    if (this.head === undefined) this.tail = undefined;
    if (task !== undefined) task.nextInBatch = undefined;
    return task;
  }

  /** The tasks still queued, left in place. */
  *queued(): Iterable<Task> {
    for (let task = this.head; task !== undefined; task = task.nextInBatch) if (task.state === 'queued') yield task;
  }

  taskEnded(): void {
    if (--this.pending > 0 || this.endedWaiters === undefined) return;
    const waiters = this.endedWaiters;
    this.endedWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  /** Resolves once every task accepted so far has ended. */
  whenEnded(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => (this.endedWaiters ??= []).push(resolve));
  }
}
