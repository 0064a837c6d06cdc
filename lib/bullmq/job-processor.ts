import { Logger } from '@nestjs/common';
import { DelayedError, type Job, type Processor, UnrecoverableError, WaitingError } from 'bullmq';
import { LOGGER_CONTEXT } from '../background-tasks.constants.js';
import { SHUTTING_DOWN } from '../background-tasks.messages.js';
import type { JobRun } from '../core/job-tracker.js';
import type { TaskRunner } from '../core/task-runner.js';
import { errorMessage } from '../utils/describe.js';
import { asError, HandlerCall } from './handler-call.js';
import { checkJobData, type JobData } from './job-data.js';
import type { ResolvedBullMQOptions } from './bullmq-options.js';
import type { ShutdownExpiry } from './shutdown-expiry.js';
import { handBack } from './unknown-handler.js';

/**
 * The worker's processor: finds the job's handler by name and calls it on
 * its provider. It declares `(job, token, signal)`, so that BullMQ gives it
 * the signal that `cancelJob()` and shutdown abort. A malformed job fails
 * for good; a job whose handler this worker lacks goes back to the queue
 * for another worker (`handBack()`). It returns only once the
 * handler has: a job keeps its slot, so that at most `concurrency` handlers
 * run, even those that ignore their signal after a timeout or a cancel.
 */
export function jobProcessor(
  runner: TaskRunner,
  { queueName, unknownHandlerTimeout }: Pick<ResolvedBullMQOptions, 'queueName' | 'unknownHandlerTimeout'>,
  shutdown: ShutdownExpiry,
): Processor<JobData, void> {
  const logger = new Logger(LOGGER_CONTEXT);
  return async (job: Job<JobData, void>, token?: string, signal?: AbortSignal) => {
    let data: JobData;
    try {
      data = checkJobData(job.name, job.data);
    } catch (problem) {
      // A malformed job would be as malformed on another try, or on another worker.
      const error = new UnrecoverableError(errorMessage(problem));
      runner.jobs.failed(runOf(job, queueName, []), error, false);
      throw error;
    }
    const run = runOf(job, queueName, data.args);
    const handler = runner.handlers.named(job.name);
    if (handler === undefined) {
      const error = await handBack(job, token, runner.handlers.names, unknownHandlerTimeout, logger).catch(
        (thrown: unknown) => thrown,
      );
      // Back in the queue, it has not run here: nothing to count. It ran nowhere if it fails.
      if (!(error instanceof DelayedError)) runner.jobs.failed(run, error, willRetry(run, error));
      throw error;
    }
    runner.jobs.started(run);
    const call = new HandlerCall(handler, data, signal, shutdown);
    try {
      await runner.jobs.run(run, data.trace, () => call.outcome.then(() => undefined));
    } catch (thrown) {
      if (signal?.aborted && shutdown.expired) {
        // Back to the queue, without using up an attempt: another worker takes it.
        runner.jobs.abandoned(run);
        runner.jobs.failed(run, signal.reason ?? new Error(SHUTTING_DOWN), true);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const error = signal?.aborted ? cancelled(signal.reason) : thrown;
      // Reported now, at the deadline or the cancel; BullMQ records it once the handler has returned.
      runner.jobs.failed(run, error, willRetry(run, error));
      if (!(await call.returnsSoon())) {
        runner.jobs.overdue(run, call.timedOutAfter);
        await call.released();
        runner.jobs.returned();
      }
      throw error;
    }
    runner.jobs.succeeded(run);
  };
}

function runOf(job: Job<JobData, void>, queue: string, args: readonly unknown[]): JobRun {
  const { name, attemptsMade, opts, timestamp } = job;
  return { name, args, id: job.id ?? '', queue, attempt: attemptsMade + 1, attempts: opts.attempts || 1, enqueuedAt: timestamp };
}

function willRetry(run: JobRun, error: unknown): boolean {
  return !(error instanceof UnrecoverableError) && run.attempt < run.attempts;
}

/** `cancelJob()` aborted the job's signal (shutdown's abort is handled before): the job fails for good, with its reason. */
function cancelled(reason: unknown): UnrecoverableError {
  return new UnrecoverableError(asError(reason).message);
}
