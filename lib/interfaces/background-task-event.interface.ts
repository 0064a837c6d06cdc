/**
 * What added the task: an HTTP request, a microservice message, a WebSocket
 * message, or `'none'` for a task of the app itself ({@link AppBackgroundTasks});
 * `'job'` for a BullMQ job that a worker of this process runs.
 */
export type BackgroundTaskTransport = 'http' | 'rpc' | 'ws' | 'none' | 'job';

/** Why a task was dropped: it was accepted, and will never run. */
export type BackgroundTaskDropReason =
  /** The request failed and the task was not added with `always`. */
  | 'request-failed'
  /** The queue was full (`maxQueued`) and the `overflow` policy chose this task. */
  | 'overflow'
  /** The application shut down and `shutdownTimeout` expired before the task started. */
  | 'shutdown'
  /** The module runs in `mode: 'disabled'`. */
  | 'disabled'
  /** BullMQ could not enqueue it in time, and `onEnqueueFailure` is `'drop'`. */
  | 'enqueue-failed'
  /**
   * It was added in a database transaction that rolled back (option
   * `transactions`), and not with `always`.
   */
  | 'transaction-rolled-back';

/** Why a task was cancelled before it started. */
export type BackgroundTaskCancelReason =
  /** {@link BackgroundTasks.cancel} was called with its name. */
  | 'cancelled'
  /** A task with the same name was added to the same request. */
  | 'replaced';

/**
 * Describes a task and the request that added it. Every lifecycle hook of
 * the module options receives one.
 */
export interface BackgroundTaskEvent {
  /** The task's `name` option, its function's name, or `"anonymous"`. */
  readonly name: string;
  /** The arguments the task was added with; for `addTaskWithOptions()`, without the context. */
  readonly args: readonly unknown[];
  /** What handled the request or message that added the task; `'none'` for {@link AppBackgroundTasks}. */
  readonly transport: BackgroundTaskTransport;
  /**
   * HTTP method of the request that added the task; `'RPC'` for a microservice
   * message, `'WS'` for a WebSocket message; `''` for {@link AppBackgroundTasks}.
   */
  readonly method: string;
  /**
   * Path of the request that added the task, without its query string; the
   * pattern of a microservice message (JSON for object patterns); the name of
   * a WebSocket message; `''` for {@link AppBackgroundTasks}.
   */
  readonly path: string;
  /** Milliseconds the task ran: on succeeded, failed and timed-out events. */
  readonly duration?: number;
  /**
   * On failed events, what the task threw or rejected with. On timed-out
   * events, the `TimeoutError` its signal was aborted with.
   */
  readonly error?: unknown;
  /** On dropped and cancelled events, why. */
  readonly reason?: BackgroundTaskDropReason | BackgroundTaskCancelReason;
  /** On the events of a BullMQ job that a worker of this process runs: which job, and which attempt. */
  readonly job?: BackgroundTaskJobAttempt;
}

/** A BullMQ job's attempt, on the events of a worker. */
export interface BackgroundTaskJobAttempt {
  readonly id: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** Tries in all, from the job's `attempts` option. */
  readonly attempts: number;
  /** On failed events: whether BullMQ will try again. */
  readonly willRetry?: boolean;
}

/** A lifecycle hook. Its errors, thrown or rejected, are logged and otherwise ignored. */
export type BackgroundTaskHook = (event: BackgroundTaskEvent) => void | Promise<void>;
