import { DISPATCHER_BROKE } from '../background-tasks.messages.js';
import type { Task } from './task.js';
import type { DispatchOutcome, TaskDispatcher } from './task-dispatcher.js';
import type { ExecutionEnd, TaskExecution } from './task-execution.js';
import type { TaskReporter } from './task-reporter.js';
import type { TaskTelemetry } from './task-telemetry.js';

/**
 * Hands a handler's task to the queue backend; a task it could not enqueue
 * runs here or is dropped, as `onEnqueueFailure` says.
 */
export class DispatchExecution implements TaskExecution {
  constructor(
    private readonly dispatcher: TaskDispatcher,
    /** For `onEnqueueFailure: 'run-in-process'`. */
    private readonly inProcess: TaskExecution,
    private readonly end: ExecutionEnd,
    private readonly reporter: TaskReporter,
    /** Runs what follows the dispatch, reporting what throws there as the bug it is. */
    private readonly guard: (task: Task, fn: () => void) => void,
    private readonly telemetry?: TaskTelemetry,
  ) {}

  execute(task: Task): void {
    let dispatched: Promise<DispatchOutcome>;
    try {
      dispatched = this.dispatcher.dispatch(task, this.telemetry?.carrier(task));
    } catch (error) {
      this.broke(task, error);
      return;
    }
    dispatched.then(
      (outcome) => this.guard(task, () => this.dispatched(task, outcome)),
      (error: unknown) => this.guard(task, () => this.broke(task, error)),
    );
  }

  private dispatched(task: Task, outcome: DispatchOutcome): void {
    if (outcome === 'enqueued') this.end.ended(task, 'dispatched');
    else if (this.dispatcher.onEnqueueFailure === 'run-in-process') this.inProcess.execute(task);
    else this.end.ended(task, 'dropped');
  }

  /** The dispatcher threw or rejected, which it must never do: a bug, reported as one; the task is treated as not enqueued. */
  private broke(task: Task, error: unknown): void {
    this.reporter.error(DISPATCHER_BROKE(task.name, this.dispatcher.onEnqueueFailure), error);
    this.dispatched(task, 'failed');
  }
}
