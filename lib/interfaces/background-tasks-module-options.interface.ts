import type { BackgroundTaskInfo } from './background-task-info.interface.js';

/**
 * Options of {@link BackgroundTasksModule}, given to `forRoot()` or returned
 * by the factory of `forRootAsync()`.
 */
export interface BackgroundTasksModuleOptions {
  /**
   * How long, in milliseconds, `app.close()` (or a shutdown signal under
   * `enableShutdownHooks()`) waits for queued and running tasks. Tasks still
   * running when it expires are named in a warning and left behind.
   * A non-negative number; `Infinity` waits for ever.
   *
   * @default 10000
   */
  shutdownTimeout?: number;

  /**
   * Called with the error of every task that throws or rejects, after it has
   * been logged. Its own errors are logged and otherwise ignored.
   */
  onTaskError?: (error: unknown, info: BackgroundTaskInfo) => void | Promise<void>;
}
