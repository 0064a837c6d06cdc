import type { BackgroundTaskStats } from '../interfaces/background-task-stats.interface.js';
import type { Task, TaskCallWrapper } from './task.js';
import type { JobTelemetry, TraceCarrier } from './job-tracker.js';

/**
 * What the runner tells an observer, such as OpenTelemetry's spans and
 * metrics, about its tasks. Optional: a runner without one calls nothing.
 * `run()` is called in the task's async context, that of the code that added
 * it, so the observer reads the caller's trace context there; the runner
 * reads it there too for a task handed to a queue (`carrier()`), and the
 * job tracker has the attempts of jobs run here observed (`JobTelemetry`).
 */
export interface TaskTelemetry extends TaskCallWrapper, JobTelemetry {
  /**
   * The trace context of the code that added the task, for its job to carry
   * to a worker: `undefined` where no valid span was active.
   */
  carrier(task: Task): TraceCarrier | undefined;
  /**
   * The task has ended: its `state` says how (it ran to an outcome, or was
   * dropped or cancelled); `detail` is what it failed with, its timeout error,
   * or why it was dropped or cancelled.
   */
  ended(task: Task, detail: unknown): void;
  /** The shutdown timeout expired while the task ran: its signal, if it has one, is aborted. */
  abandoned(task: Task): void;
  /** The runner has shut down: nothing more will be reported. */
  close(): void;
}

/** Creates the telemetry of a runner, given the runner's counters. */
export type TaskTelemetryFactory = (stats: () => BackgroundTaskStats) => TaskTelemetry;
