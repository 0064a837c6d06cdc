import { jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { BackgroundTaskRunner, type BackgroundTaskHook } from '../../lib/index.js';
import { journal } from '../fixtures/bullmq.app.js';
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
    const statsOf = ({ app }: { app: INestApplication }) => app.get(BackgroundTaskRunner).stats();

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
      await within('the first enqueue', inProcess.app.get(BackgroundTaskRunner).whenIdle());
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
      await within('the enqueues to fail', inProcess.app.get(BackgroundTaskRunner).whenIdle());
      await within('the enqueues to fail', dropping.app.get(BackgroundTaskRunner).whenIdle());
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
            await app.app.get(BackgroundTaskRunner).whenIdle();
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
