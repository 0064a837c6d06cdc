/** How long BullMQ keeps finished jobs: all (`false`), none (`true`), the last `count`, or those younger than `age` seconds. */
export type BackgroundTaskKeepJobs =
  boolean | number | { readonly age?: number; readonly count?: number; readonly limit?: number };

/** The delay between retries: a fixed number of milliseconds, or BullMQ's built-in strategies. */
export type BackgroundTaskBackoff =
  number | { readonly type: 'fixed' | 'exponential'; readonly delay?: number; readonly jitter?: number };

/**
 * Options of {@link BackgroundTaskHandler}: the handler's stable name, and the
 * BullMQ job options of its jobs, which override the module's
 * `defaultJobOptions`. Without the BullMQ module, only `name` matters.
 */
export interface BackgroundTaskHandlerOptions {
  /**
   * The handler's name, which its jobs carry to the workers. Keep it stable
   * across deploys: a worker fails jobs whose name it does not know.
   *
   * @default 'ClassName.methodName'
   */
  readonly name?: string;
  /** Tries in all, the first included. @default the module's `defaultJobOptions.attempts`, or 1 */
  readonly attempts?: number;
  /** The delay before each retry. */
  readonly backoff?: BackgroundTaskBackoff;
  /** 1 is the highest priority; jobs without one come first. */
  readonly priority?: number;
  /** Milliseconds the job waits before a worker may take it. */
  readonly delay?: number;
  /** How many completed jobs Redis keeps. */
  readonly removeOnComplete?: BackgroundTaskKeepJobs;
  /** How many failed jobs Redis keeps. */
  readonly removeOnFail?: BackgroundTaskKeepJobs;
}
