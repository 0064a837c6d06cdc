/**
 * Options of one task, given to {@link BackgroundTasks.addTaskWithOptions}.
 */
export interface BackgroundTaskOptions {
  /**
   * Names the task in logs, hooks and the shutdown report, instead of its
   * function's name. Within one request, a task added later with the same
   * name replaces this one if it has not started yet, and
   * {@link BackgroundTasks.cancel} cancels it by this name.
   */
  readonly name?: string;

  /**
   * Runs the task even when the request fails. An HTTP request fails when
   * its response has a status of 400 or more: a guard denies it, something
   * throws and an exception filter answers with an error, or the handler
   * answers with a 4xx. A microservice or WebSocket message fails when its
   * handler throws or rejects. For audit logs of failed logins, for example.
   *
   * @default false
   */
  readonly always?: boolean;

  /**
   * Milliseconds the task may run. At the deadline its `signal` is aborted
   * with a `TimeoutError`, the task is reported as timed out, and the next
   * task of its request starts. A positive number, at most 2147483647;
   * `Infinity` means no timeout.
   *
   * @default the module's `taskTimeout`
   */
  readonly timeout?: number;
}
