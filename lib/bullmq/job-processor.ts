import { type Job, type Processor, UnrecoverableError, WaitingError } from 'bullmq';
import { SHUTTING_DOWN, TASK_TIMEOUT_ERROR, UNKNOWN_HANDLER } from '../background-tasks.messages.js';
import type { JobRun } from '../core/job-tracker.js';
import type { TaskHandler } from '../core/task-handlers.js';
import type { TaskRunner } from '../core/task-runner.js';
import { errorMessage } from '../utils/describe.js';
import { checkJobData, type JobData } from './job-data.js';

/**
 * The worker's processor: finds the job's handler by name and calls it on
 * its provider. It declares `(job, token, signal)`, so that BullMQ gives it
 * the signal that `cancelJob()` and shutdown abort. A job whose handler is
 * unknown fails for good, and the worker goes on.
 */
export function jobProcessor(runner: TaskRunner, queueName: string, shuttingDown: () => boolean): Processor<JobData, void> {
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
    try {
      const checked = data;
      await runner.jobs.run(run, checked.trace, () => callHandler(handler, checked, signal, shuttingDown));
    } catch (thrown) {
      if (signal?.aborted && shuttingDown()) {
        // Back to the queue, without using up an attempt: another worker takes it.
        runner.jobs.abandoned(run);
        runner.jobs.failed(run, signal.reason ?? new Error(SHUTTING_DOWN), true);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const error = signal?.aborted ? cancelled(signal.reason) : thrown;
      const willRetry = !(error instanceof UnrecoverableError) && run.attempt < run.attempts;
      runner.jobs.failed(run, error, willRetry);
      throw error;
    }
    runner.jobs.succeeded(run);
  };
}

/**
 * Calls the handler, and rejects as soon as its signal is aborted (by the
 * task's timeout, `cancelJob()` or shutdown), even if it ignores the signal.
 */
async function callHandler(
  handler: TaskHandler,
  data: JobData,
  jobSignal: AbortSignal | undefined,
  shuttingDown: () => boolean,
): Promise<void> {
  const controller = new AbortController();
  // The handler sees the reason given to cancelJob() as it was given, and at shutdown what it would see in-process.
  const forward = () => controller.abort(shuttingDown() ? new DOMException(SHUTTING_DOWN, 'AbortError') : jobSignal!.reason);
  jobSignal?.addEventListener('abort', forward, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const { timeout } = data;
  if (timeout !== undefined) {
    const error = new DOMException(TASK_TIMEOUT_ERROR(data.name ?? handler.name, timeout), 'TimeoutError');
    timer = setTimeout(() => controller.abort(error), timeout);
  }
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(asError(controller.signal.reason)), { once: true });
  });
  const fn = handler.fn as (...args: unknown[]) => unknown;
  const args = data.context ? [{ signal: controller.signal, name: data.name ?? handler.name }, ...data.args] : [...data.args];
  try {
    await Promise.race([Promise.resolve().then(() => fn.apply(handler.instance, args)), aborted]);
  } finally {
    clearTimeout(timer);
    jobSignal?.removeEventListener('abort', forward);
  }
}

/** `cancelJob()` aborted the job's signal (shutdown's abort is handled before): the job fails for good, with its reason. */
function cancelled(reason: unknown): UnrecoverableError {
  return new UnrecoverableError(asError(reason).message);
}

/** BullMQ records a failure by its message: a bare reason becomes an Error (a DOMException is one). */
function asError(reason: unknown): Error {
  if (typeof (reason as Error | undefined)?.message === 'string') return reason as Error;
  return new Error(typeof reason === 'string' ? reason : SHUTTING_DOWN);
}
