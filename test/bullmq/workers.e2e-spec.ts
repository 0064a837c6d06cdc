import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BackgroundTasksMonitor } from '../../lib/index.js';
import { bullmqAppModule, journal } from '../fixtures/bullmq.app.js';
import { post } from '../utils/http.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor } from '../utils/wait-for.js';
import { webAndWorkers } from './web-and-workers.js';
import { journalLines, signUpAll } from './worker-processes.js';

describeWithRedis('BullMQ: web processes enqueue, worker processes run', (redis) => {
  const setup = webAndWorkers(redis);

  beforeEach(() => (journal.length = 0));

  it('scenario 1: a request adds a registered task; the response arrives; a worker in another process runs the job', async () => {
    const { web, port, file, startWorker } = setup;
    const worker = await startWorker();
    expect(await post(port, '/signup/ada')).toEqual({ status: 201, body: '{"ok":true}' });
    const lines = await waitFor('the worker to run the job', async () => {
      const read = await journalLines(file);
      return read.some(({ entry }) => entry === 'welcome ada') && read;
    });
    expect(lines).toEqual([
      { entry: 'start ada', pid: worker.pid },
      { entry: 'welcome ada', pid: worker.pid },
    ]);
    // The web process ran nothing, and counts the task once, as dispatched.
    expect(journal).toEqual([]);
    expect(web.get(BackgroundTasksMonitor).stats()).toMatchObject({
      succeeded: 0,
      jobs: { dispatched: 1, running: 0, succeeded: 0, failed: 0, retried: 0 },
    });
  });

  it('scenario 5: two worker processes share 1,000 jobs from 1,000 requests, and each job completes exactly once', async () => {
    const { web, port, file, startWorker } = setup;
    const [first, second] = await Promise.all([startWorker(), startWorker()]);
    const ids = Array.from({ length: 1000 }, (_, i) => `user${i}`);
    const done = await signUpAll(port, ids, file, 60_000);
    expect(done.map(({ entry }) => entry.slice('welcome '.length)).sort()).toEqual([...ids].sort());
    const byWorker = (pid?: number) => done.filter((line) => line.pid === pid).length;
    expect(byWorker(first.pid) + byWorker(second.pid)).toBe(1000);
    expect(byWorker(first.pid)).toBeGreaterThan(0);
    expect(byWorker(second.pid)).toBeGreaterThan(0);
    await web.get(BackgroundTasksMonitor).whenIdle();
    expect(web.get(BackgroundTasksMonitor).stats()).toMatchObject({
      queued: 0,
      running: 0,
      dropped: 0,
      jobs: { dispatched: 1000 },
    });
  }, 90_000);

  it('scenario 9: a web-only process enqueues and runs nothing; a worker-only application context runs the jobs', async () => {
    const { web, port, queueName } = setup;
    await post(port, '/signup/later');
    await web.get(BackgroundTasksMonitor).whenIdle();
    const connection = new Redis({ ...redis().connection, maxRetriesPerRequest: null });
    const raw = new Queue(queueName, { connection, prefix: redis().prefix });
    let worker: INestApplicationContext | undefined;
    try {
      expect(await raw.getJobCounts('waiting', 'active', 'completed')).toEqual({ waiting: 1, active: 0, completed: 0 });
      expect(journal).toEqual([]);
      const module = bullmqAppModule({ connection: redis().connection, prefix: redis().prefix, queueName });
      worker = await NestFactory.createApplicationContext(module, { logger: false });
      await waitFor('the worker-only context to run the job', () => journal.includes('welcome later'));
      await waitFor('the job to be completed', async () => (await raw.getJobCounts('completed')).completed === 1);
    } finally {
      await worker?.close();
      await raw.close();
      connection.disconnect();
    }
  });
});
