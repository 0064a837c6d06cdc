import type { Logger } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { JOB_HANDED_BACK, UNKNOWN_HANDLER } from '../background-tasks.messages.js';
import type { JobData } from './job-data.js';

/** How long a job handed back waits at first, and at most. */
const FIRST_WAIT = 1000;
const LONGEST_WAIT = 30_000;

/**
 * A job whose handler this worker lacks, as an older worker meets a newer
 * handler's job during a rolling deploy. It goes back to the queue,
 * delayed, without using an attempt, for a worker that has the handler: it
 * waits as long again as it has since its first hand-back (1 s, then
 * doubling, up to 30 s), and fails for good once `limit` ms have passed
 * since then. The first hand-back is written into the job, and logged.
 *
 * @returns the error for the processor to throw: BullMQ's `DelayedError`
 * once the job is back in the queue, or the `UnrecoverableError` it fails with.
 */
export async function handBack(
  job: Job<JobData, void>,
  token: string | undefined,
  known: readonly string[],
  limit: number,
  logger: Logger,
  now = Date.now(),
): Promise<Error> {
  const first = job.data.handedBackAt;
  const waited = now - (first ?? now);
  if (waited >= limit) return new UnrecoverableError(UNKNOWN_HANDLER(job.name, known, limit));
  if (first === undefined) {
    await job.updateData({ ...job.data, handedBackAt: now });
    logger.log(JOB_HANDED_BACK(job.name, job.id ?? '', known, limit));
  }
  await job.moveToDelayed(now + Math.min(Math.max(waited, FIRST_WAIT), LONGEST_WAIT, limit - waited), token);
  return new DelayedError();
}
