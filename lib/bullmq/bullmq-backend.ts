import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { type ConnectionOptions, Worker } from 'bullmq';
import { LOGGER_CONTEXT } from '../background-tasks.constants.js';
import {
  BULLMQ_WITHOUT_MODULE,
  QUEUE_REACHABLE,
  QUEUE_UNREACHABLE,
  SHUTTING_DOWN,
  WORKER_NOT_CLOSED,
  WORKER_STARTED,
  WORKER_STOPPED,
} from '../background-tasks.messages.js';
import { TaskRunner } from '../core/task-runner.js';
import { BullMQDispatcher } from './bullmq-dispatcher.js';
import type { BackgroundTasksBullMQOptions } from './bullmq-options.interface.js';
import { resolveBullMQOptions, type ResolvedBullMQOptions, type SharedBullConfig } from './bullmq-options.js';
import { BACKGROUND_TASKS_BULLMQ_OPTIONS } from './bullmq.module-definition.js';
import type { TaskQueue, TaskWorker } from './job-data.js';
import { jobProcessor } from './job-processor.js';
import { BULL_SHARED_CONFIG, ModuleQueue } from './bullmq-internals.js';
import { ShutdownExpiry } from './shutdown-expiry.js';
import { type RedisClient, redisClient } from './redis-clients.js';

/** How long aborted jobs have to hand themselves back to the queue before shutdown goes on without them. */
const ABORTED_JOBS_GRACE = 1000;

/** Whether `closing` resolves within `ABORTED_JOBS_GRACE`. */
async function withGrace(closing: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ABORTED_JOBS_GRACE, false)));
  try {
    return await Promise.race([closing.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The module's queue and worker, whose lifecycle it owns: the worker stops
 * taking jobs first, at `beforeApplicationShutdown`, and aborts the jobs
 * still running at `shutdownTimeout`; the queue closes last, once the
 * runner has enqueued the tasks of requests that were in flight and the
 * follow-ups of the last jobs.
 */
@Injectable()
export class BullMQBackend implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly options: ResolvedBullMQOptions;
  /** Read by `BackgroundTasksQueue`. */
  queue?: TaskQueue;
  private queueClient?: RedisClient;
  /** Read by `BackgroundTasksQueue`; set at bootstrap, unless `worker: false`. */
  worker?: TaskWorker;
  private workerClient?: RedisClient;
  private readonly shutdown = new ShutdownExpiry();
  private workerClosed?: Promise<void>;
  private closed?: Promise<void>;

  private readonly runner: TaskRunner;

  constructor(
    @Inject(BACKGROUND_TASKS_BULLMQ_OPTIONS) options: BackgroundTasksBullMQOptions,
    // From the app's BackgroundTasksModule, which is global.
    @Optional() runner?: TaskRunner,
    @Optional() @Inject(BULL_SHARED_CONFIG) shared?: SharedBullConfig,
  ) {
    if (runner === undefined) throw new Error(BULLMQ_WITHOUT_MODULE);
    this.runner = runner;
    this.options = resolveBullMQOptions(options, shared);
  }

  get queueName(): string {
    return this.options.queueName;
  }

  /** Whether this process runs a worker (`worker` is not `false`). */
  get runsWorker(): boolean {
    return this.options.worker !== undefined;
  }

  onModuleInit(): void {
    const { queueName, prefix, defaultJobOptions, backend } = this.options;
    let queue: ModuleQueue;
    if (backend === undefined) {
      const client = (this.queueClient = redisClient(this.options.connection, 'enqueue'));
      this.reportOutages(client);
      queue = new ModuleQueue(queueName, { connection: client, prefix, defaultJobOptions });
    } else {
      queue = new ModuleQueue(
        queueName,
        { connection: this.options.connection as ConnectionOptions, defaultJobOptions },
        backend,
      );
    }
    // Connection trouble is reported once per outage, and each task it affects follows onEnqueueFailure.
    queue.on('error', () => undefined);
    this.queue = queue;
    const connected = () => this.queueClient === undefined || this.queueClient.status === 'ready';
    this.runner.setDispatcher(new BullMQDispatcher(queue, this.options, connected));
  }

  /** The worker starts once every module is ready, handlers included. */
  onApplicationBootstrap(): void {
    const { queueName, prefix, worker: workerOptions, backend, connection } = this.options;
    if (workerOptions === undefined) return;
    const processor = jobProcessor(this.runner, this.options, this.shutdown);
    let worker: TaskWorker;
    if (backend === undefined) {
      this.workerClient = redisClient(connection, 'worker');
      const options = { ...workerOptions, connection: this.workerClient as ConnectionOptions, prefix, autorun: true };
      worker = new Worker(queueName, processor, options);
    } else {
      worker = new Worker(queueName, processor, { ...workerOptions, connection: connection as ConnectionOptions }, backend);
    }
    this.worker = worker;
    this.logger.log(WORKER_STARTED(queueName, worker.concurrency, this.runner.handlers.names));
    worker.on('error', (error) => {
      if (this.queueClient !== undefined && this.queueClient.status !== 'ready') return; // an outage, reported once already
      this.logger.error(error.message, error.stack);
    });
  }

  beforeApplicationShutdown(): Promise<void> {
    return (this.workerClosed ??= this.closeWorker());
  }

  onApplicationShutdown(): Promise<void> {
    return (this.closed ??= this.close());
  }

  /**
   * Stops taking jobs, lets the running ones finish until `shutdownTimeout`,
   * then aborts them. While Redis is away, BullMQ's `worker.close()` would
   * wait for ever for the last commands of those jobs: shutdown then waits
   * for the jobs running here instead, and closes BullMQ's worker without
   * them; the jobs are found stalled and run again by another worker.
   */
  private async closeWorker(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    let closed: boolean;
    if (this.storeAway()) {
      await this.untilShutdownTimeout(worker, this.runner.jobs.whenNoneRunning());
      await withGrace(worker.close(true));
      closed = false;
    } else {
      closed = await this.untilShutdownTimeout(worker, worker.close());
    }
    if (closed) this.logger.log(WORKER_STOPPED(this.options.queueName));
    else this.logger.warn(WORKER_NOT_CLOSED(this.options.queueName));
    this.workerClient?.disconnect();
  }

  /**
   * Whether `done` resolved before `shutdownTimeout`, or soon after the jobs
   * still running then were aborted (they hand themselves back to the queue).
   */
  private untilShutdownTimeout(worker: TaskWorker, done: Promise<void>): Promise<boolean> {
    const { shutdownTimeout } = this.runner.options;
    const ended = done.then(() => true);
    if (shutdownTimeout === Infinity) return ended;
    let abort: NodeJS.Timeout | undefined;
    const aborted = new Promise<void>((resolve) => {
      abort = setTimeout(() => {
        this.shutdown.expire();
        worker.cancelAllJobs(SHUTTING_DOWN);
        resolve();
      }, shutdownTimeout);
    });
    return Promise.race([ended, aborted.then(() => withGrace(ended))]).finally(() => clearTimeout(abort));
  }

  private storeAway(): boolean {
    return this.workerClient !== undefined && this.workerClient.status !== 'ready';
  }

  /** The queue closes last: the runner may still enqueue the tasks of requests that were in flight. */
  private async close(): Promise<void> {
    await this.beforeApplicationShutdown();
    await this.runner.onApplicationShutdown();
    await this.queue?.close();
    this.queueClient?.disconnect();
  }

  private reportOutages(client: RedisClient): void {
    const { queueName } = this.options;
    let reachable: boolean | undefined;
    client.on('error', (error) => {
      if (reachable === false) return;
      reachable = false;
      this.logger.warn(QUEUE_UNREACHABLE(queueName, error.message));
    });
    client.on('ready', () => {
      if (reachable === false) this.logger.log(QUEUE_REACHABLE(queueName));
      reachable = true;
    });
  }
}
