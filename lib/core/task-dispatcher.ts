import type { BackgroundTask } from './background-task.js';
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
  /** Closures are an error at `addTask()`: every task must be a handler's. */
  readonly requireDurable: boolean;
  readonly onEnqueueFailure: EnqueueFailurePolicy;
  /**
   * Enqueues the task of a handler, with `trace` (its caller's trace
   * context, with `tracing` on) for the worker. Never rejects, and settles in
   * bounded time.
   */
  dispatch(task: BackgroundTask, trace?: TraceCarrier): Promise<DispatchOutcome>;
}
