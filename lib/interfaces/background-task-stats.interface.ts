import type { BackgroundTaskJobStats } from './background-task-job-stats.interface.js';

/**
 * Counters of {@link BackgroundTaskRunner.stats}. `queued` and `running`
 * are what is there now; the others count since the application started.
 */
export interface BackgroundTaskStats {
  /** Tasks accepted and not started: their response is still being sent, or they wait for their turn. */
  readonly queued: number;
  /** Tasks running now. A task that timed out no longer counts, even if it ignores its signal. */
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly dropped: number;
  readonly cancelled: number;
  /** BullMQ jobs, when its module is configured: see {@link BackgroundTaskJobStats}. */
  readonly jobs?: BackgroundTaskJobStats;
}
