/**
 * What a task added with {@link BackgroundTasks.addTaskWithOptions} receives
 * as its first argument.
 */
export interface BackgroundTaskContext {
  /**
   * Aborted when the task's `timeout` expires (reason: a `TimeoutError`), or
   * when the application shuts down and `shutdownTimeout` expires (reason: an
   * `AbortError`). Pass it on to `fetch()`, database drivers and timers.
   */
  readonly signal: AbortSignal;
  /** The task's name: its `name` option, its function's name, or `"anonymous"`. */
  readonly name: string;
}
