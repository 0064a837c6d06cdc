import { Injectable, Optional } from '@nestjs/common';
import { NO_BULLMQ_MODULE, NO_BULLMQ_WORKER } from '../background-tasks.messages.js';
import { BullMQBackend } from './bullmq-backend.js';
import type { TaskQueue, TaskWorker } from './job-data.js';

/**
 * The BullMQ queue of `BackgroundTasksBullMQModule`, and this process's
 * worker, for what `addTask()` does not do: cancelling a running job,
 * reading a job or the counts. Inject it like any provider; the module
 * provides it, from `onModuleInit()` on.
 *
 * @example
 * ```ts
 * @Controller('exports')
 * export class ExportsController {
 *   constructor(private readonly jobs: BackgroundTasksQueue) {}
 *
 *   @Delete(':jobId')
 *   cancel(@Param('jobId') jobId: string): { cancelled: boolean } {
 *     return { cancelled: this.jobs.cancelJob(jobId, 'cancelled by the user') };
 *   }
 * }
 * ```
 */
@Injectable()
export class BackgroundTasksQueue {
  constructor(@Optional() private readonly backend?: BullMQBackend) {}

  /**
   * The module's BullMQ `Queue`: `getJob(id)`, `getJobCounts()`, and the
   * rest of BullMQ's API. Adding jobs to it bypasses the serialisation check
   * and the `enqueueTimeout`; `addTask()` is the way to add a task.
   *
   * @throws {Error} if `BackgroundTasksBullMQModule` is not imported.
   */
  get queue(): TaskQueue {
    return this.started().queue!;
  }

  /** This process's BullMQ `Worker`, once the application has bootstrapped; `undefined` with `worker: false`. */
  get worker(): TaskWorker | undefined {
    return this.started().worker;
  }

  /**
   * Cancels a job that this process's worker is running: its handler's
   * `AbortSignal` is aborted with `reason`, and the job fails for good
   * (BullMQ's `UnrecoverableError`: no retry, whatever its `attempts`), with
   * `reason` as its failed reason. BullMQ cancels only on the worker that runs
   * the job: for a job that another process runs, or that is not running,
   * nothing happens and this returns `false`.
   *
   * @param jobId the job's id, as `queue.getJob()` or a hook reports it.
   * @param reason the signal's reason, which the handler sees; default: an `AbortError`.
   * @returns whether the job was running here, and is now cancelled.
   * @throws {Error} in a process that runs no worker (`worker: false`), or without the module.
   */
  cancelJob(jobId: string, reason?: string): boolean {
    const backend = this.started();
    if (!backend.runsWorker) throw new Error(NO_BULLMQ_WORKER(backend.queueName));
    return backend.worker?.cancelJob(jobId, reason) ?? false;
  }

  private started(): BullMQBackend {
    if (this.backend === undefined) throw new Error(NO_BULLMQ_MODULE);
    return this.backend;
  }
}
