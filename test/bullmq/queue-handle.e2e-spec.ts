import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { AppBackgroundTasks, BackgroundTasksMonitor, type BackgroundTaskHook } from '../../lib/index.js';
import { BackgroundTasksQueue } from '../../lib/bullmq/index.js';
import { NO_BULLMQ_WORKER } from '../../lib/background-tasks.messages.js';
import { abortReasons, journal, Mailer } from '../fixtures/bullmq.app.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor } from '../utils/wait-for.js';
import { startBullMQApp } from './bullmq-app.js';

describeWithRedis('BackgroundTasksQueue', (redis) => {
  let app: INestApplication | undefined;
  const onTaskFailed = jest.fn<BackgroundTaskHook>();

  beforeEach(() => {
    journal.length = 0;
    abortReasons.length = 0;
    onTaskFailed.mockClear();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("cancelJob() aborts the handler's signal with the reason given, and the job fails for good, without a retry", async () => {
    ({ app } = await startBullMQApp(redis(), {}, { onTaskFailed }));
    const jobs = app.get(BackgroundTasksQueue);
    app.get(AppBackgroundTasks).addTaskWithOptions({}, app.get(Mailer).cancellable, 'export');
    await waitFor('the job to start', () => journal.includes('cancellable export start'));
    const [job] = await jobs.queue.getJobs(['active']);
    expect(jobs.cancelJob(job.id!, 'cancelled by the user')).toBe(true);
    await waitFor('the job to fail', () => app!.get(BackgroundTasksMonitor).stats().jobs?.failed === 1);
    expect(abortReasons).toEqual(['cancelled by the user']);
    expect(app.get(BackgroundTasksMonitor).stats().jobs).toEqual({
      dispatched: 1,
      running: 0,
      overdue: 0,
      succeeded: 0,
      failed: 1,
      retried: 0,
    });
    expect(onTaskFailed.mock.calls.map(([event]) => [event.job?.willRetry, (event.error as Error).message])).toEqual([
      [false, 'cancelled by the user'],
    ]);
    const failed = (await jobs.queue.getJob(job.id!))!;
    expect([await failed.getState(), failed.failedReason, failed.attemptsMade]).toEqual(['failed', 'cancelled by the user', 1]);
    expect(journal).toEqual(['cancellable export start']);
    // Not running any more: nothing to cancel.
    expect(jobs.cancelJob(job.id!)).toBe(false);
  });

  it('gives the queue, and the worker of a process that runs one', async () => {
    ({ app } = await startBullMQApp(redis(), { queueName: 'handle' }));
    const jobs = app.get(BackgroundTasksQueue);
    expect(jobs.queue.name).toBe('handle');
    expect(jobs.worker?.name).toBe('handle');
    expect(jobs.cancelJob('no-such-job')).toBe(false);
  });

  it('in a web-only process, gives the queue, no worker, and cancelJob() is an error that says where to call it', async () => {
    ({ app } = await startBullMQApp(redis(), { worker: false, queueName: 'web-only' }));
    const jobs = app.get(BackgroundTasksQueue);
    expect(await jobs.queue.getJobCounts('active')).toEqual({ active: 0 });
    expect(jobs.worker).toBeUndefined();
    expect(() => jobs.cancelJob('1')).toThrow(NO_BULLMQ_WORKER('web-only'));
    expect(NO_BULLMQ_WORKER('web-only')).toMatch(/worker: false.*Call cancelJob\(\) in the worker process/);
  });
});
