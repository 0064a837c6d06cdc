import type {
  BackendFactory,
  ConnectionOptions,
  DefaultJobOptions,
  IQueueBackend,
  PostgresConnectionOptions,
  WorkerOptions,
} from 'bullmq';

/** What `onEnqueueFailure` does with a task that could not be enqueued within `enqueueTimeout`. */
export type BackgroundTasksEnqueueFailurePolicy = 'run-in-process' | 'drop';

/** BullMQ worker options that the module leaves to you; it sets the connection, the prefix and when to run. */
export type BackgroundTasksWorkerOptions = Omit<WorkerOptions, 'connection' | 'prefix' | 'autorun'>;

/**
 * Options of {@link BackgroundTasksBullMQModule}, given to `forRoot()` or
 * returned by the factory of `forRootAsync()`.
 */
export interface BackgroundTasksBullMQOptions {
  /**
   * Where the queue lives: ioredis options (`{ host, port }`, or `{ url }`),
   * or an ioredis instance (a `Redis` or a `Cluster`), which the module
   * duplicates: it needs one connection that fails fast for enqueueing, and
   * one for its worker. With
   * `backend`, the backend's own connection (a `pg` pool or URL). Leave it
   * out to reuse the connection of `BullModule.forRoot()` of
   * `@nestjs/bullmq`.
   */
  readonly connection?: ConnectionOptions | PostgresConnectionOptions;
  /** @default 'background-tasks' */
  readonly queueName?: string;
  /** BullMQ's key prefix. @default the prefix of `BullModule.forRoot()`, or BullMQ's `'bull'` */
  readonly prefix?: string;
  /**
   * Job options of every job; a handler's `@BackgroundTaskHandler()` options
   * override them. The defaults keep the last 1,000 completed jobs for a day
   * at most, and the last 5,000 failed ones for a week at most.
   */
  readonly defaultJobOptions?: DefaultJobOptions;
  /**
   * Whether this process runs jobs: `true`, BullMQ worker options
   * (`concurrency`, `lockDuration`, `stalledInterval`, …), or `false` for a
   * web-only process that only enqueues.
   *
   * @default true
   */
  readonly worker?: boolean | BackgroundTasksWorkerOptions;
  /**
   * Milliseconds an enqueue may take, brief retries included, before
   * `onEnqueueFailure` applies. It never delays a response: tasks are
   * enqueued after it.
   *
   * @default 1000
   */
  readonly enqueueTimeout?: number;
  /** @default 'run-in-process' */
  readonly onEnqueueFailure?: BackgroundTasksEnqueueFailurePolicy;
  /**
   * Makes a task that is not a `@BackgroundTaskHandler()` method (a closure, a
   * plain function) a `TypeError` at `addTask()`.
   *
   * @default false
   */
  readonly requireDurable?: boolean;
  /**
   * Milliseconds a job whose handler a worker lacks (an older worker, during
   * a rolling deploy) may wait for a worker that has it, from its first
   * hand-back. Until then it goes back to the queue, without using an
   * attempt, waiting 1 s, then doubling, up to 30 s; then it fails for good.
   * `0` fails it at once; `Infinity` waits for ever.
   *
   * @default 600000 (10 minutes)
   */
  readonly unknownHandlerTimeout?: number;
  /**
   * A BullMQ backend factory, such as `createPostgresBackend` for the
   * experimental PostgreSQL backend; `connection` is then its connection.
   */
  readonly backend?: BackendFactory<IQueueBackend, never>;
}

/**
 * A provider that gives {@link BackgroundTasksBullMQModule} its options, for
 * `forRootAsync({ useClass })` (Nest creates it, with its own dependencies)
 * or `forRootAsync({ useExisting })` (Nest finds it among the imported
 * providers). Nest calls `createBackgroundTasksBullMQOptions()` once, at
 * startup; the options are then checked as `forRoot()`'s are.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class QueueConfig implements BackgroundTasksBullMQOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *
 *   createBackgroundTasksBullMQOptions(): BackgroundTasksBullMQOptions {
 *     return { connection: { url: this.config.getOrThrow<string>('REDIS_URL') }, worker: this.config.get('ROLE') !== 'web' };
 *   }
 * }
 *
 * BackgroundTasksBullMQModule.forRootAsync({ imports: [ConfigModule], useClass: QueueConfig });
 * ```
 */
export interface BackgroundTasksBullMQOptionsFactory {
  /** The module's options, or a promise of them: startup waits for it. */
  createBackgroundTasksBullMQOptions(): Promise<BackgroundTasksBullMQOptions> | BackgroundTasksBullMQOptions;
}
