import type { INestApplication } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestRedis } from '../utils/redis.js';
import { startBullMQApp, uniqueQueue } from './bullmq-app.js';
import { WorkerProcesses, type WorkerProcessOptions } from './worker-processes.js';

/** What each test of a suite with `webAndWorkers()` gets. */
export interface WebAndWorkers {
  /** The web-only fixture app (`worker: false`), started before the test. */
  readonly web: INestApplication;
  readonly port: number;
  /** A queue of the test's own. */
  readonly queueName: string;
  /** The journal that the worker processes write to. */
  readonly file: string;
  /** Starts a worker process on the test's queue and journal. */
  startWorker(options?: Partial<WorkerProcessOptions>): ReturnType<WorkerProcesses['start']>;
}

/**
 * Sets up, before each test of the suite, a web-only app on a queue of the
 * test's own, and stops it after the test, with the worker processes the
 * test started. Read the result's fields inside the tests.
 */
export function webAndWorkers(redis: () => TestRedis): WebAndWorkers {
  const workers = new WorkerProcesses();
  let dir: string;
  const current = {
    startWorker: (options: Partial<WorkerProcessOptions> = {}) =>
      workers.start({
        connection: redis().connection,
        prefix: redis().prefix,
        queueName: current.queueName,
        journal: current.file,
        ...options,
      }),
  } as { -readonly [K in keyof WebAndWorkers]: WebAndWorkers[K] };

  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'bt-bullmq-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    current.queueName = uniqueQueue();
    current.file = join(dir, `${current.queueName}.log`);
    ({ app: current.web, port: current.port } = await startBullMQApp(redis(), { queueName: current.queueName, worker: false }));
  });

  afterEach(async () => {
    await workers.stopAll();
    await current.web.close();
  });

  return current;
}
