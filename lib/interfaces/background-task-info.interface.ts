/**
 * Describes a task and the request that added it, for error reports.
 */
export interface BackgroundTaskInfo {
  /** The task function's name, or `"anonymous"`. */
  readonly name: string;
  /** The arguments the task was added with. */
  readonly args: readonly unknown[];
  /** HTTP method of the request that added the task. */
  readonly method: string;
  /** Path of the request that added the task, without its query string. */
  readonly path: string;
}
