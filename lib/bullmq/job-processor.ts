import { type Job, type Processor, UnrecoverableError, WaitingError } from 'bullmq';
import { SHUTTING_DOWN, UNKNOWN_HANDLER } from '../background-tasks.messages.js';
import type { JobRun } from '../core/job-tracker.js';
import type { TaskRunner } from '../core/task-runner.js';
import { errorMessage } from '../utils/describe.js';
import { asError, HandlerCall } from './handler-call.js';
import { checkJobData, type JobData } from './job-data.js';
import type { ShutdownExpiry } from './shutdown-expiry.js';

/**
 * The worker's processor: finds the job's handler by name and calls it on
 * its provider. It declares `(job, token, signal)`, so that BullMQ gives it
 * the signal that `cancelJob()` and shutdown abort. A job whose handler is
 * unknown fails for good, and the worker goes on. It returns only once the
 * handler has: a job keeps its slot, so that at most `concurrency` handlers
 * run, even those that ignore their signal after a timeout or a cancel.
 */
export function jobProcessor(runner: TaskRunner, queueName: string, shutdown: ShutdownExpiry): Processor<JobData, void> {
  return async (job: Job<JobData, void>, token?: string, signal?: AbortSignal) => {
    let data: JobData | undefined;
    let problem: string | undefined;
    try {
      data = checkJobData(job.name, job.data);
    } catch (error) {
      problem = errorMessage(error);
    }
    const run: JobRun = {
      name: job.name,
      args: data?.args ?? [],
      id: job.id ?? '',
      queue: queueName,
      attempt: job.attemptsMade + 1,
      attempts: job.opts.attempts || 1,
      enqueuedAt: job.timestamp,
    };
    const handler = runner.handlers.named(job.name);
    if (data === undefined || handler === undefined) {
      // A malformed job would be as malformed on another try, or on another worker.
      const error = new UnrecoverableError(problem ?? UNKNOWN_HANDLER(job.name, runner.handlers.names));
      runner.jobs.failed(run, error, false);
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
      const willRetry = !(error instanceof UnrecoverableError) && run.attempt < run.attempts;
      // Reported now, at the deadline or the cancel; BullMQ records it once the handler has returned.
      runner.jobs.failed(run, error, willRetry);
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

/** `cancelJob()` aborted the job's signal (shutdown's abort is handled before): the job fails for good, with its reason. */
function cancelled(reason: unknown): UnrecoverableError {
  return new UnrecoverableError(asError(reason).message);
}
