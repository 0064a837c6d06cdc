import { jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { WORKER_NOT_CLOSED } from '../../lib/background-tasks.messages.js';
import { AppBackgroundTasks, BackgroundTasksMonitor, type BackgroundTaskHook } from '../../lib/index.js';
import { gates, journal, Mailer } from '../fixtures/bullmq.app.js';
import { post } from '../utils/http.js';
import { describeWithRedis, type PrivateRedis } from '../utils/redis.js';
import { waitFor, within } from '../utils/wait-for.js';
import { startBullMQApp } from './bullmq-app.js';

describeWithRedis(
  'BullMQ: Redis goes away, and comes back',
  (testRedis) => {
    const redis = () => testRedis() as PrivateRedis;
    const onTaskDropped = jest.fn<BackgroundTaskHook>();
    let inProcess: { app: INestApplication; port: number };
    let dropping: { app: INestApplication; port: number };
    const statsOf = ({ app }: { app: INestApplication }) => app.get(BackgroundTasksMonitor).stats();

    beforeAll(async () => {
      inProcess = await startBullMQApp(redis(), { worker: false, enqueueTimeout: 300 });
      dropping = await startBullMQApp(
        redis(),
        { worker: false, enqueueTimeout: 300, onEnqueueFailure: 'drop' },
        { onTaskDropped },
      );
    });

    afterAll(async () => {
      jest.restoreAllMocks();
      await inProcess?.app.close();
      await dropping?.app.close();
    });

    it('scenario 6: responses stay fast, every task follows onEnqueueFailure, and tasks flow again once Redis is back', async () => {
      await post(inProcess.port, '/signup/before');
      await within('the first enqueue', inProcess.app.get(BackgroundTasksMonitor).whenIdle());
      expect(statsOf(inProcess).jobs?.dispatched).toBe(1);

      const warn = jest.spyOn(Logger.prototype, 'warn');
      const log = jest.spyOn(Logger.prototype, 'log');
      await redis().stop();
      const durations: number[] = [];
      for (let i = 0; i < 20; i++) {
        for (const app of [inProcess, dropping]) {
          const start = performance.now();
          expect((await post(app.port, `/signup/down${i}`)).status).toBe(201);
          durations.push(performance.now() - start);
        }
      }
      await within('the enqueues to fail', inProcess.app.get(BackgroundTasksMonitor).whenIdle());
      await within('the enqueues to fail', dropping.app.get(BackgroundTasksMonitor).whenIdle());
      // A response never waits for Redis: far below enqueueTimeout, which is what an enqueue could take.
      expect(Math.max(...durations)).toBeLessThan(250);

      // run-in-process: every task ran here; drop: every task was reported dropped.
      expect(journal.filter((entry) => entry.startsWith('welcome down')).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `welcome down${i}`).sort(),
      );
      expect(statsOf(inProcess)).toMatchObject({ succeeded: 20, dropped: 0, jobs: { dispatched: 1 } });
      expect(statsOf(dropping)).toMatchObject({ succeeded: 0, dropped: 20, jobs: { dispatched: 0 } });
      expect(onTaskDropped.mock.calls.map(([event]) => [event.name, event.reason])).toEqual(
        Array.from({ length: 20 }, () => ['Mailer.sendWelcome', 'enqueue-failed']),
      );

      const warnings = () => warn.mock.calls.map(([message]) => String(message));
      // The outage once per app, when its client's reconnect fails; each failed enqueue once.
      const outage =
        /^BullMQ queue "q\d+-\d+" cannot reach its store \(.+\): durable tasks follow onEnqueueFailure until it is back\.$/;
      const outages = () => warnings().filter((line) => outage.test(line));
      await waitFor('both apps to report the outage', () => outages().length >= 2);
      expect(outages()).toHaveLength(2);
      expect(
        warnings().filter((line) => line.endsWith('running it in this process instead (onEnqueueFailure: run-in-process).')),
      ).toHaveLength(20);
      expect(warnings().filter((line) => line.endsWith('dropped (onEnqueueFailure: drop).'))).toHaveLength(20);

      await redis().start();
      for (const app of [inProcess, dropping]) {
        await waitFor(
          'a task to be enqueued again',
          async () => {
            await post(app.port, '/signup/back');
            await app.app.get(BackgroundTasksMonitor).whenIdle();
            return (statsOf(app).jobs?.dispatched ?? 0) > (app === inProcess ? 1 : 0);
          },
          15_000,
        );
      }
      const back = log.mock.calls
        .map(([message]) => String(message))
        .filter((line) => line.endsWith('is connected: durable tasks run as jobs.'));
      expect(back).toHaveLength(2);
    }, 60_000);
  },
  { privateServer: true },
);

describeWithRedis(
  'BullMQ: shutdown while Redis is away',
  (testRedis) => {
    const redis = () => testRedis() as PrivateRedis;
    let warn: jest.SpiedFunction<Logger['warn']>;
    const warnings = () => warn.mock.calls.map(([message]) => String(message));
    const outage = () => warnings().some((line) => line.includes('cannot reach its store'));

    beforeEach(() => {
      journal.length = 0;
      warn = jest.spyOn(Logger.prototype, 'warn');
    });
    afterEach(async () => {
      gates.clear();
      // Back for the next test, and for the suite's teardown.
      await redis().start();
      jest.restoreAllMocks();
    });

    it('app.close() does not wait for a worker that cannot reach Redis; a task added meanwhile follows onEnqueueFailure', async () => {
      const { app } = await startBullMQApp(redis(), { queueName: 'gone-before', enqueueTimeout: 300 });
      await redis().stop();
      await waitFor('the outage to be reported', outage);

      app.get(AppBackgroundTasks).addTask(app.get(Mailer).sendWelcome, 'at-shutdown');
      await within('app.close()', app.close());

      expect(journal).toEqual(['welcome at-shutdown']);
      expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ succeeded: 1, running: 0, jobs: { dispatched: 0 } });
      expect(warnings()).toContain(WORKER_NOT_CLOSED('gone-before'));
    });

    it('aborts a job still running when Redis went away, at shutdownTimeout, and does not wait for BullMQ to hand it back', async () => {
      const { app, port } = await startBullMQApp(redis(), { queueName: 'gone-during' }, { shutdownTimeout: 100 });
      gates.hold('stranded');
      await post(port, '/slow/stranded');
      await waitFor('the job to start', () => journal.includes('slow stranded start'));
      await redis().stop();
      await waitFor('the outage to be reported', outage);

      await within('app.close()', app.close());

      // Aborted, not finished; another worker finds it stalled once Redis is back.
      expect(journal).toEqual(['slow stranded start']);
      expect(app.get(BackgroundTasksMonitor).stats().jobs).toMatchObject({ running: 0, succeeded: 0 });
      expect(warnings()).toContain(WORKER_NOT_CLOSED('gone-during'));
    });
  },
  { privateServer: true },
);
