import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  AppBackgroundTasks,
  BackgroundTasksMonitor,
  type BackgroundTaskEvent,
  type BackgroundTaskHook,
} from '../../lib/index.js';
import { BackgroundTasksQueue } from '../../lib/bullmq/index.js';
import { gates, journal, Mailer } from '../fixtures/bullmq.app.js';
import { post } from '../utils/http.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor, within } from '../utils/wait-for.js';
import { inspectQueue, startBullMQApp, uniqueQueue } from './bullmq-app.js';

describeWithRedis('BullMQ jobs, run by a worker of the same process', (redis) => {
  let app: INestApplication | undefined;
  let port: number;
  const onTaskFailed = jest.fn<BackgroundTaskHook>();
  const onTaskSucceeded = jest.fn<BackgroundTaskHook>();
  const stats = () => app!.get(BackgroundTasksMonitor).stats();

  beforeEach(() => {
    journal.length = 0;
    onTaskFailed.mockClear();
    onTaskSucceeded.mockClear();
  });

  afterEach(async () => {
    gates.clear();
    await app?.close();
    app = undefined;
  });

  it('runs a registered handler as a job, on its provider, and counts it once as dispatched and once as run', async () => {
    ({ app, port } = await startBullMQApp(redis(), {}, { onTaskSucceeded }));
    expect(await post(port, '/signup/ada')).toEqual({ status: 201, body: '{"ok":true}' });
    await waitFor('the job to run', () => journal.includes('welcome ada'));
    await waitFor('the job to be counted', () => stats().jobs?.succeeded === 1);
    expect(app.get(Mailer).sent).toEqual(['ada']);
    expect(stats()).toEqual({
      queued: 0,
      running: 0,
      overdue: 0,
      succeeded: 0,
      failed: 0,
      timedOut: 0,
      dropped: 0,
      cancelled: 0,
      jobs: { dispatched: 1, running: 0, overdue: 0, succeeded: 1, failed: 0, retried: 0 },
    });
    const event = onTaskSucceeded.mock.calls[0][0];
    expect(event).toMatchObject({ name: 'Mailer.sendWelcome', args: ['ada'], transport: 'job', method: 'JOB' });
    expect(event.job).toEqual({ id: expect.any(String), attempt: 1, attempts: 1 });
  });

  it('takes its options from a class that implements BackgroundTasksBullMQOptionsFactory, with forRootAsync({ useClass })', async () => {
    ({ app, port } = await startBullMQApp(redis(), { queueName: 'from-class' }, {}, { fromClass: true }));
    expect(app.get(BackgroundTasksQueue).queue.name).toBe('from-class');
    expect(await post(port, '/signup/ada')).toEqual({ status: 201, body: '{"ok":true}' });
    await waitFor('the job to run', () => journal.includes('welcome ada'));
    await waitFor('the job to be counted', () => stats().jobs?.succeeded === 1);
    expect(stats()).toMatchObject({ succeeded: 0, jobs: { dispatched: 1, succeeded: 1 } });
  });

  it('scenario 2: a failed request enqueues nothing but its always tasks, closures of which run in-process', async () => {
    ({ app, port } = await startBullMQApp(redis()));
    expect((await post(port, '/rejected/bob')).status).toBe(400);
    await waitFor('the always job', () => journal.includes('slow always bob end'));
    await within('the in-process always task', app.get(BackgroundTasksMonitor).whenIdle());
    expect(journal.filter((entry) => !entry.startsWith('slow'))).toEqual(['audit bob']);
    expect(stats()).toMatchObject({ succeeded: 1, dropped: 1, jobs: { dispatched: 1, succeeded: 1 } });
  });

  it('scenario 3: a job that fails twice with attempts: 3 succeeds on the third try; hooks and logs tell attempts from the end', async () => {
    ({ app, port } = await startBullMQApp(redis(), {}, { onTaskFailed, onTaskSucceeded }));
    app.get(AppBackgroundTasks).addTask(app.get(Mailer).flaky, 'twice', 2);
    await waitFor('the third try', () => journal.includes('flaky twice ok at try 3'));
    await waitFor('the counters', () => stats().jobs?.succeeded === 1);
    expect(stats().jobs).toEqual({ dispatched: 1, running: 0, overdue: 0, succeeded: 1, failed: 0, retried: 2 });
    expect(onTaskFailed.mock.calls.map(([event]) => [event.job, (event.error as Error).message])).toEqual([
      [{ id: expect.any(String), attempt: 1, attempts: 3, willRetry: true }, 'twice try 1 failed'],
      [{ id: expect.any(String), attempt: 2, attempts: 3, willRetry: true }, 'twice try 2 failed'],
    ]);
    expect(onTaskSucceeded.mock.calls.map(([event]) => event.job)).toEqual([{ id: expect.any(String), attempt: 3, attempts: 3 }]);
  });

  it('scenario 3: a job that exhausts its attempts counts as failed, once, with a final failure event', async () => {
    ({ app, port } = await startBullMQApp(redis(), {}, { onTaskFailed }));
    app.get(AppBackgroundTasks).addTask(app.get(Mailer).flaky, 'always', 5);
    await waitFor('the last attempt', () => stats().jobs?.failed === 1);
    expect(stats().jobs).toEqual({ dispatched: 1, running: 0, overdue: 0, succeeded: 0, failed: 1, retried: 2 });
    expect(onTaskFailed.mock.calls.map(([event]) => event.job?.willRetry)).toEqual([true, true, false]);
  });

  it('scenario 8: with unknownHandlerTimeout: 0, a job of an unknown handler fails for good at once, naming the known ones; the worker goes on', async () => {
    const queueName = uniqueQueue();
    ({ app, port } = await startBullMQApp(redis(), { queueName, unknownHandlerTimeout: 0 }, { onTaskFailed }));
    const connection = new Redis({ ...redis().connection, maxRetriesPerRequest: null });
    const raw = new Queue(queueName, { connection, prefix: redis().prefix });
    try {
      const job = await raw.add('Deleted.handler', { args: [1] }, { attempts: 3 });
      await post(port, '/signup/after');
      await waitFor('the next job', () => journal.includes('welcome after'));
      await waitFor('the unknown job to fail', () => stats().jobs?.failed === 1);
      expect(await raw.getJobState(job.id!)).toBe('failed');
      const failed = await raw.getJob(job.id!);
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toMatch(
        /^No @BackgroundTaskHandler\(\) method is named "Deleted.handler" in this worker \(it has "Mailer.sendWelcome", "audit", .*\), and unknownHandlerTimeout is 0: it fails for good at once\. Deploy workers with this handler/,
      );
      const event: BackgroundTaskEvent = onTaskFailed.mock.calls[0][0];
      expect(event).toMatchObject({
        name: 'Deleted.handler',
        transport: 'job',
        job: { attempt: 1, attempts: 3, willRetry: false },
      });
    } finally {
      await raw.close();
      connection.disconnect();
    }
  });

  it('fails a malformed job added by hand for good, at its first attempt, naming the field, without calling its handler', async () => {
    const queueName = uniqueQueue();
    ({ app, port } = await startBullMQApp(redis(), { queueName }, { onTaskFailed }));
    const id = await inspectQueue(redis(), queueName, async (queue) => {
      const added = await queue.add('Mailer.sendWelcome', { args: ['eve'], context: true, timeout: 'abc' }, { attempts: 3 });
      return added.id!;
    });
    await waitFor('the malformed job to fail', () => stats().jobs?.failed === 1);
    const [state, failed] = await inspectQueue(redis(), queueName, async (queue) => [
      await queue.getJobState(id),
      await queue.getJob(id),
    ]);
    expect([state, failed?.attemptsMade]).toEqual(['failed', 1]);
    expect(failed?.failedReason).toBe(
      'Background job "Mailer.sendWelcome" is malformed: field "timeout" of its data must be a positive number of milliseconds, ' +
        'at most 2147483647, or Infinity; got a string ("abc"). It was not added by nestjs-background-tasks, or by an incompatible version: ' +
        'add jobs with addTask(), and give other producers a queue of their own.',
    );
    expect(onTaskFailed.mock.calls.map(([event]) => event.job?.willRetry)).toEqual([false]);
    expect(journal).toEqual([]);
    expect(stats().jobs).toMatchObject({ running: 0, succeeded: 0, failed: 1, retried: 0 });
  });

  it('aborts the signal of a job at its timeout, and fails the attempt with a TimeoutError', async () => {
    ({ app, port } = await startBullMQApp(redis(), {}, { onTaskFailed }));
    gates.hold('never');
    app.get(AppBackgroundTasks).addTaskWithOptions({ timeout: 50 }, app.get(Mailer).slow, 'never');
    await waitFor('the timeout', () => stats().jobs?.failed === 1);
    expect(journal).toEqual(['slow never start']);
    const error = onTaskFailed.mock.calls[0][0].error as DOMException;
    expect([error.name, error.message]).toEqual(['TimeoutError', 'Background task "slow" timed out after 50 ms.']);
  });

  it("makes a task's name its job's deduplication id: while a job of that name waits, a new one is not added", async () => {
    const queueName = uniqueQueue();
    ({ app, port } = await startBullMQApp(redis(), { queueName, worker: false }));
    const tasks = app.get(AppBackgroundTasks);
    const mailer = app.get(Mailer);
    for (const label of ['first', 'second']) {
      tasks.addTaskWithOptions({ name: 'reindex' }, mailer.slow, label);
      await within('the enqueue', app.get(BackgroundTasksMonitor).whenIdle());
    }
    expect(stats().jobs?.dispatched).toBe(2);
    const waiting = await inspectQueue(redis(), queueName, async (queue) => (await queue.getWaiting()).map((job) => job.data));
    expect(waiting).toEqual([{ args: ['first'], context: true, name: 'reindex' }]);
  });
});
