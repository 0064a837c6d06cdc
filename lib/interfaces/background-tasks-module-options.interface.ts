import type { BackgroundTaskHook } from './background-task-event.interface.js';

/**
 * What `addTask()` does once the queue holds `maxQueued` tasks:
 * - `'reject'`: throws {@link BackgroundTasksOverflowException}, an HTTP 503;
 * - `'drop-newest'`: drops the task being added;
 * - `'drop-oldest'`: drops the task that has been queued longest, and queues the new one.
 */
export type BackgroundTasksOverflowPolicy = 'reject' | 'drop-newest' | 'drop-oldest';

/**
 * When tasks run:
 * - `'background'`: after the response has been sent;
 * - `'inline'`: when the handler has finished, before the response is sent, so
 *   that a test's request resolves only once its tasks have run;
 * - `'disabled'`: never; every task is reported as dropped.
 */
export type BackgroundTasksMode = 'background' | 'inline' | 'disabled';

/**
 * The `tracing` option in full. `tracing: true` is `{}`: every default.
 */
export interface BackgroundTasksTracingOptions {
  /**
   * How a task's span relates to the span of the request that added it:
   * - `'link'`: a new trace, linked to the request's span; the request's span
   *   has ended by the time the task runs, and a trace stays as long as its
   *   request, however late or long its tasks;
   * - `'child'`: a child of the request's span, in the request's trace.
   *
   * @default 'link'
   */
  parent?: 'link' | 'child';

  /**
   * Whether to record metrics too (task counts, durations and queue waits), through the API's global meter.
   *
   * @default true
   */
  metrics?: boolean;
}

/**
 * The `threads` option: the pool of worker threads that thread tasks
 * (`threadTask()`) run in. It starts on the first thread task; an app without
 * any starts no thread. Thread tasks waiting for a thread are queued tasks,
 * under `maxQueued` and `overflow` like every other.
 */
export interface BackgroundTasksThreadsOptions {
  /**
   * The most threads, and so the most thread tasks running at once (within
   * `concurrency`). A positive integer.
   *
   * @default one fewer than `os.availableParallelism()`, and at least 1
   */
  maxThreads?: number;

  /**
   * Threads kept even when idle, started with the pool. A non-negative integer, at most `maxThreads`.
   *
   * @default 0
   */
  minThreads?: number;

  /**
   * Milliseconds after which an idle thread above `minThreads` ends.
   *
   * @default 30000
   */
  idleTimeout?: number;

  /**
   * Memory limits of each thread, in megabytes, as `new Worker()` takes
   * them. A thread that exceeds them dies: its task fails, and the pool
   * starts another thread.
   */
  resourceLimits?: {
    maxOldGenerationSizeMb?: number;
    maxYoungGenerationSizeMb?: number;
    codeRangeSizeMb?: number;
    stackSizeMb?: number;
  };
}

/**
 * Options of {@link BackgroundTasksModule}, given to `forRoot()` or returned
 * by the factory of `forRootAsync()`.
 */
export interface BackgroundTasksModuleOptions {
  /**
   * The most tasks running at once, across all requests. Tasks over that
   * limit wait for a slot, in the order they became ready. A positive integer,
   * or `Infinity`.
   *
   * @default Infinity
   */
  concurrency?: number;

  /**
   * The most tasks queued at once: accepted and not started yet, whether
   * their response is still being sent or they wait for their turn. A
   * positive integer, or `Infinity`.
   *
   * @default Infinity
   */
  maxQueued?: number;

  /**
   * What adding a task to a full queue does. See {@link BackgroundTasksOverflowPolicy}.
   *
   * @default 'reject'
   */
  overflow?: BackgroundTasksOverflowPolicy;

  /**
   * Timeout of tasks that do not set their own, in milliseconds. See
   * {@link BackgroundTaskOptions.timeout}.
   *
   * @default Infinity
   */
  taskTimeout?: number;

  /**
   * How long, in milliseconds, `app.close()` (or a shutdown signal under
   * `enableShutdownHooks()`) waits for queued and running tasks. When it
   * expires, queued tasks are dropped, running ones have their signal aborted,
   * and all of them are named in a warning. A non-negative number; `Infinity`
   * waits for ever.
   *
   * @default 10000
   */
  shutdownTimeout?: number;

  /**
   * When tasks run. `'inline'` and `'disabled'` are for tests. See {@link BackgroundTasksMode}.
   *
   * @default 'background'
   */
  mode?: BackgroundTasksMode;

  /**
   * Runs each task in an OpenTelemetry span, and records metrics, through
   * `@opentelemetry/api`, an optional peer dependency that must then be
   * installed (startup fails otherwise). Off, the module loads nothing of it.
   * See {@link BackgroundTasksTracingOptions}.
   *
   * @default false
   */
  tracing?: boolean | BackgroundTasksTracingOptions;

  /**
   * The pool of worker threads that thread tasks run in. See {@link BackgroundTasksThreadsOptions}.
   */
  threads?: BackgroundTasksThreadsOptions;

  /**
   * Tasks follow the database transactions of `@nestjs-cls/transactional`
   * (an optional peer dependency, with `nestjs-cls`, which must then be
   * installed and set up: startup fails otherwise). A task added while a
   * transaction is active waits for the outermost transaction that persists
   * its data: once that commits, it follows the usual rules (after the
   * response, or enqueued to BullMQ) and runs with no transaction active; if
   * it rolls back, the task is dropped (`'transaction-rolled-back'`), unless
   * added with `always`. Off, the module loads nothing of nestjs-cls. See
   * docs/transactions.md.
   *
   * @default false
   */
  transactions?: boolean;

  /** Called when a task is accepted. */
  onTaskQueued?: BackgroundTaskHook;
  /** Called when a task starts. */
  onTaskStarted?: BackgroundTaskHook;
  /** Called when a task has returned, or its promise has resolved. */
  onTaskSucceeded?: BackgroundTaskHook;
  /** Called when a task has thrown or rejected, after the failure has been logged. */
  onTaskFailed?: BackgroundTaskHook;
  /** Called when a task overran its timeout, after that has been logged. */
  onTaskTimedOut?: BackgroundTaskHook;
  /** Called when a task is dropped without having started. */
  onTaskDropped?: BackgroundTaskHook;
  /** Called when a task is cancelled, or replaced by a task of the same name, before it started. */
  onTaskCancelled?: BackgroundTaskHook;
}
