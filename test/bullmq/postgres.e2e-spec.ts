import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createPostgresBackend } from 'bullmq';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BackgroundTasksMonitor } from '../../lib/index.js';
import { bullmqAppModule, journal } from '../fixtures/bullmq.app.js';
import { post } from '../utils/http.js';
import { describeWithPostgres } from '../utils/postgres.js';
import { waitFor } from '../utils/wait-for.js';
import { uniqueQueue } from './bullmq-app.js';
import { journalLines, signUpAll, WorkerProcesses } from './worker-processes.js';

/** BullMQ's PostgreSQL backend, experimental: scenarios 1 and 5. */
describeWithPostgres('BullMQ on PostgreSQL (experimental)', (url) => {
  const workers = new WorkerProcesses();
  // A schema of its own, migrated on first connect, dropped at the end.
  const schema = `bt_test_${process.pid}`;
  const connection = { connectionString: url, schema, migrate: true };
  let dir: string;
  let web: INestApplication | undefined;
  let port: number;
  let queueName: string;
  let file: string;

  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'bt-bullmq-pg-'))));
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    journal.length = 0;
    queueName = uniqueQueue();
    file = join(dir, `${queueName}.log`);
    // Every add NOTIFYs its workers, and PostgreSQL commits NOTIFYing transactions one at a time, server-wide
    // (a lock on pg_database, each with its WAL flush): on a shared server, scenario 5's bursts of 50 adds then
    // take seconds to commit (on Node 24 and 26, whose faster clients make tighter bursts, nearly always), and
    // the default 1 s would run them here. These scenarios test where jobs run, not how fast PostgreSQL commits.
    const module = bullmqAppModule({
      connection,
      queueName,
      backend: createPostgresBackend,
      worker: false,
      enqueueTimeout: 30_000,
    });
    web = await NestFactory.create(module, { logger: false });
    await web.listen(0, '127.0.0.1');
    port = web.getHttpServer().address().port;
  });

  afterEach(async () => {
    await workers.stopAll();
    await web?.close();
  });

  const startWorker = () => workers.start({ connection, queueName, journal: file, backend: 'postgres' });

  it('scenario 1: a worker process runs the job of a request', async () => {
    const worker = await startWorker();
    expect((await post(port, '/signup/ada')).status).toBe(201);
    await waitFor('the job', async () => (await journalLines(file)).some(({ entry }) => entry === 'welcome ada'), 15_000);
    expect(await journalLines(file)).toEqual([
      { entry: 'start ada', pid: worker.pid },
      { entry: 'welcome ada', pid: worker.pid },
    ]);
  }, 30_000);

  it('scenario 5: two worker processes share 1,000 jobs, each completed exactly once', async () => {
    await Promise.all([startWorker(), startWorker()]);
    const ids = Array.from({ length: 1000 }, (_, i) => `user${i}`);
    const done = await signUpAll(port, ids, file, 90_000);
    expect(done.map(({ entry }) => entry.slice('welcome '.length)).sort()).toEqual([...ids].sort());
    await web!.get(BackgroundTasksMonitor).whenIdle();
    expect(web!.get(BackgroundTasksMonitor).stats()).toMatchObject({ dropped: 0, succeeded: 0, jobs: { dispatched: 1000 } });
  }, 120_000);
});
