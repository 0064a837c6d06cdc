import type { INestApplication } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { post } from '../utils/http.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor } from '../utils/wait-for.js';
import { startBullMQApp, uniqueQueue } from './bullmq-app.js';
import { journalLines, stop, WorkerProcesses } from './worker-processes.js';

describeWithRedis('BullMQ: a worker killed mid-job', (redis) => {
  const workers = new WorkerProcesses();
  let dir: string;
  let web: INestApplication | undefined;

  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'bt-bullmq-'))));
  afterAll(async () => {
    await workers.stopAll('SIGKILL');
    await web?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('scenario 4: the job is recovered as stalled and completed by another worker, exactly once', async () => {
    const queueName = uniqueQueue();
    const file = join(dir, 'journal.log');
    // Short locks, so that the stalled job is found in about a second instead of a minute.
    const options = {
      connection: redis().connection,
      prefix: redis().prefix,
      queueName,
      journal: file,
      slowMs: 1500,
      worker: { lockDuration: 1000, stalledInterval: 500 },
    };
    const started = await Promise.all([workers.start(options), workers.start(options)]);
    let port: number;
    ({ app: web, port } = await startBullMQApp(redis(), { queueName, worker: false }));
    await post(port, '/signup/ada');

    const first = await waitFor('a worker to start the job', async () =>
      (await journalLines(file)).find(({ entry }) => entry === 'start ada'),
    );
    const victim = started.find((child) => child.pid === first.pid)!;
    await stop(victim, 'SIGKILL');
    const survivor = started.find((child) => child !== victim)!;

    const lines = await waitFor(
      'the other worker to complete the stalled job',
      async () => {
        const read = await journalLines(file);
        return read.some(({ entry }) => entry === 'welcome ada') && read;
      },
      15_000,
    );
    expect(lines).toEqual([
      { entry: 'start ada', pid: victim.pid },
      { entry: 'start ada', pid: survivor.pid },
      { entry: 'welcome ada', pid: survivor.pid },
    ]);
  }, 40_000);
});
