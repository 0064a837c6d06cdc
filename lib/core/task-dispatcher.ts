import type { Task } from './task.js';
import type { TraceCarrier } from './job-tracker.js';

/** What became of a task handed to a queue. */
export type DispatchOutcome = 'enqueued' | 'failed';

/** What `onEnqueueFailure` does with a task that could not be enqueued. */
export type EnqueueFailurePolicy = 'run-in-process' | 'drop';

/**
 * A queue backend, as the runner sees it: the BullMQ module sets one at
 * startup, and the runner hands it the tasks of handlers instead of running
 * them. The core knows nothing else of the queue.
 */
export interface TaskDispatcher {
  readonly onEnqueueFailure: EnqueueFailurePolicy;
  /**
   * Checks, at `addTask()`, that the task can go to the queue: a handler's
   * arguments must survive the trip, and, under `requireDurable`, a closure
   * is an error.
   *
   * @throws {TypeError} naming the task and the problem.
   */
  admit(task: Task): void;
  /**
   * Enqueues the task of a handler, with `trace` (its caller's trace
   * context, with `tracing` on) for the worker. Never throws nor rejects, and
   * resolves in bounded time.
   */
  dispatch(task: Task, trace?: TraceCarrier): Promise<DispatchOutcome>;
}
