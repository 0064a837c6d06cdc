import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { AppBackgroundTasks, BackgroundTasksMonitor, type BackgroundTaskEvent } from '../../lib/index.js';
import { BackgroundTasksQueue } from '../../lib/bullmq/index.js';
import { journal, Mailer } from '../fixtures/bullmq.app.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor } from '../utils/wait-for.js';
import { inspectQueue, startBullMQApp, uniqueQueue } from './bullmq-app.js';

/** Handlers that ignore their signal, on a worker of concurrency 1: a job keeps its slot until its handler returns. */
describeWithRedis('BullMQ: a job whose handler outlives its timeout or its cancel', (redis) => {
  let app: INestApplication | undefined;
  /** For each failure reported: the job's label, and whether its handler had returned by then. */
  let reported: Array<{ label: string; returned: boolean; message: string; willRetry?: boolean }>;
  const onTaskFailed = (event: BackgroundTaskEvent) => {
    const label = String(event.args[0]);
    const message = (event.error as Error).message;
    reported.push({ label, returned: journal.includes(`stubborn ${label} end`), message, willRetry: event.job?.willRetry });
  };
  const stats = () => app!.get(BackgroundTasksMonitor).stats();
  let warn: jest.SpiedFunction<Logger['warn']>;

  beforeEach(() => {
    journal.length = 0;
    reported = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    jest.restoreAllMocks();
  });

  /** The journal as [label, what] pairs: on one slot, each start is followed by its own end. */
  const bodies = () => journal.map((entry) => entry.split(' ').slice(1));

  it('runs one body at a time on concurrency 1; each job is reported timed out at its deadline, overdue until its body ends, and fails once', async () => {
    const queueName = uniqueQueue();
    ({ app } = await startBullMQApp(redis(), { queueName, worker: { concurrency: 1 } }, { onTaskFailed }));
    const labels = ['j1', 'j2', 'j3', 'j4'];
    for (const label of labels)
      app.get(AppBackgroundTasks).addTaskWithOptions({ timeout: 50 }, app.get(Mailer).stubborn, label, 300);
    await waitFor('a job to be overdue', () => stats().jobs?.overdue === 1);
    await waitFor(
      'every job to fail',
      () => journal.length === 8 && stats().jobs?.running === 0 && stats().jobs?.overdue === 0,
      10_000,
    );

    const order = bodies();
    for (let i = 0; i < order.length; i += 2) {
      expect([order[i], order[i + 1]]).toEqual([
        [order[i][0], 'start'],
        [order[i][0], 'end'],
      ]);
    }
    expect(
      order
        .filter(([, what]) => what === 'start')
        .map(([label]) => label)
        .sort(),
    ).toEqual(labels);
    const timedOut = 'Background task "stubborn" timed out after 50 ms.';
    expect(reported.sort((a, b) => a.label.localeCompare(b.label))).toEqual(
      labels.map((label) => ({ label, returned: false, message: timedOut, willRetry: false })),
    );
    expect(stats().jobs).toEqual({ dispatched: 4, running: 0, overdue: 0, succeeded: 0, failed: 4, retried: 0 });
    const overdue = warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('has not returned'));
    expect(overdue).toHaveLength(4);
    expect(overdue[0]).toMatch(
      /^Background job "stubborn" \(\d+\) timed out after 50 ms, but its handler "stubborn" has not returned: the worker holds the job's slot until it does\. Make the handler honour its signal/,
    );
    const failed = await inspectQueue(redis(), queueName, (queue) => queue.getFailed());
    expect(failed.map((job) => [job.data.args[0], job.attemptsMade, job.failedReason]).sort()).toEqual(
      labels.map((label) => [label, 1, timedOut]),
    );
  }, 20_000);

  it('keeps the slot of a job cancelled by cancelJob() until its handler returns: the next job starts after it', async () => {
    ({ app } = await startBullMQApp(redis(), { worker: { concurrency: 1 } }, { onTaskFailed }));
    const jobs = app.get(BackgroundTasksQueue);
    const tasks = app.get(AppBackgroundTasks);
    tasks.addTaskWithOptions({}, app.get(Mailer).stubborn, 'c1', 300);
    await waitFor('the job to start', () => journal.includes('stubborn c1 start'));
    tasks.addTaskWithOptions({}, app.get(Mailer).stubborn, 'c2', 0);
    const [job] = await jobs.queue.getJobs(['active']);
    expect(jobs.cancelJob(job.id!, 'cancelled by the user')).toBe(true);
    await waitFor('both jobs to end', () => journal.includes('stubborn c2 end') && stats().jobs?.overdue === 0);
    expect(journal).toEqual(['stubborn c1 start', 'stubborn c1 end', 'stubborn c2 start', 'stubborn c2 end']);
    expect(reported).toEqual([{ label: 'c1', returned: false, message: 'cancelled by the user', willRetry: false }]);
    expect(stats().jobs).toMatchObject({ running: 0, overdue: 0, succeeded: 1, failed: 1 });
    await waitFor(
      'the cancelled job to be failed in the queue',
      async () => (await jobs.queue.getJobState(job.id!)) === 'failed',
    );
  });
});
