/**
 * The `jobs` block of {@link BackgroundTaskStats}, present once the BullMQ
 * module is configured. A task handed to the queue ends, in this process, as
 * `dispatched`, and is counted nowhere else here; the worker that runs it
 * counts it in its own `running`, `succeeded` and `failed` below.
 */
export interface BackgroundTaskJobStats {
  /** Tasks of this process enqueued as jobs (a deduplicated one too). */
  readonly dispatched: number;
  /** Jobs this process's worker is running now. */
  readonly running: number;
  /**
   * Jobs whose attempt has ended here, timed out or cancelled (and counted
   * in `failed` or `retried`), but whose handler, ignoring its signal, has
   * not returned yet: each still holds its slot of the worker's
   * `concurrency`, and BullMQ records its failure once the handler returns.
   */
  readonly overdue: number;
  /** Jobs this process's worker has completed. */
  readonly succeeded: number;
  /** Jobs that failed their last attempt here (or could not run at all, like those of an unknown handler). */
  readonly failed: number;
  /** Failed attempts here that BullMQ retries later, maybe on another worker. */
  readonly retried: number;
}
