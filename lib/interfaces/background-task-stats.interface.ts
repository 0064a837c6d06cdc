import type { BackgroundTaskJobStats } from './background-task-job-stats.interface.js';

/**
 * Counters of {@link BackgroundTasksMonitor.stats}. `queued`, `running` and
 * `overdue` are what is there now; the others count since the application
 * started. Every task added is queued, running, or counted by exactly one
 * of `succeeded`, `failed`, `timedOut`, `dropped` and `cancelled`.
 */
export interface BackgroundTaskStats {
  /** Tasks accepted and not started: their response is still being sent, or they wait for their turn. */
  readonly queued: number;
  /** Tasks running now, not past their timeout. */
  readonly running: number;
  /**
   * Tasks that timed out (counted in `timedOut`) and still run, because they
   * ignore their signal, or cannot be interrupted: each keeps its slot of
   * `concurrency` until it returns.
   */
  readonly overdue: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly dropped: number;
  readonly cancelled: number;
  /** BullMQ jobs, when its module is configured: see {@link BackgroundTaskJobStats}. */
  readonly jobs?: BackgroundTaskJobStats;
}
