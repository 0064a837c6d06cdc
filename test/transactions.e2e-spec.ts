import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TRANSACTIONS_WITHOUT_HOST, TRANSACTIONS_WITHOUT_PACKAGE } from '../lib/background-tasks.messages.js';
import { post } from './utils/http.js';
import { describeWithPostgres } from './utils/postgres.js';
import { describeWithRedis } from './utils/redis.js';
import { waitFor } from './utils/wait-for.js';

/**
 * Option `transactions` with `@nestjs-cls/transactional` on a real
 * PostgreSQL, through the Drizzle and TypeORM adapters. The package is
 * CommonJS and require()s Nest, which is ESM-only: Jest cannot load it, so
 * the app runs in a Node process of its own (test/fixtures/transactions-app.mjs,
 * on the built dist/), and reports over HTTP what each task saw.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/transactions-app.mjs', import.meta.url));
const HIDE_PACKAGE = fileURLToPath(new URL('./fixtures/hide-transactional.mjs', import.meta.url));

interface Seen {
  name: string;
  job?: true;
  inTransaction: boolean;
  sameRequest: boolean;
  rows: number;
}
interface Report {
  journal: Seen[];
  drops: Array<{ name: string; reason: string }>;
  stats: Record<string, number>;
}

interface Started {
  child: ChildProcess;
  port?: number;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>, nodeArgs: string[] = []): Started {
  const child = spawn(process.execPath, [...nodeArgs, FIXTURE], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function listening(app: Started): Promise<number> {
  let done = false;
  void app.exited.then(() => (done = true));
  return waitFor(
    'the app to print its port',
    () => {
      const match = /\{"port":(\d+)\}/.exec(app.output());
      if (match) return Number(match[1]);
      if (done) throw new Error(`the app exited early:\n${app.output()}`);
      return undefined;
    },
    20_000,
  );
}

async function report(port: number, jobs = 0): Promise<Report> {
  const response = await fetch(`http://127.0.0.1:${port}/report?jobs=${jobs}`);
  return (await response.json()) as Report;
}

describeWithPostgres('tasks follow database transactions (@nestjs-cls/transactional)', (url) => {
  const table = `bt_tx_${process.pid}`;
  const apps: Started[] = [];

  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) {
      if (app.child.exitCode === null) app.child.kill('SIGTERM');
      await app.exited;
    }
  });

  async function startApp(env: Record<string, string>): Promise<number> {
    const app = start({ DATABASE_URL: url, TABLE: table, ...env });
    apps.push(app);
    return listening(app);
  }

  describe.each(['typeorm', 'drizzle'])('with the %s adapter', (adapter) => {
    const unique = (name: string) => `${adapter}-${name}-${Math.random().toString(36).slice(2, 8)}`;

    it('a commit runs the task after it, in the request context, with no transaction, reading the committed row', async () => {
      const port = await startApp({ ADAPTER: adapter });
      const name = unique('commit');
      expect((await post(port, `/signup?name=${name}`)).status).toBe(201);
      const { journal, drops } = await report(port);
      expect(journal).toEqual([{ name, inTransaction: false, sameRequest: true, rows: 1 }]);
      expect(drops).toEqual([]);
    }, 30_000);

    it('a rollback drops the task (even when the handler catches it and answers 2xx); an always task still runs', async () => {
      const port = await startApp({ ADAPTER: adapter });
      const [caught, always, failed] = [unique('caught'), unique('always'), unique('failed')];
      expect((await post(port, `/signup?name=${caught}&fail=1&catch=1`)).status).toBe(201);
      expect((await post(port, `/signup?name=${always}&fail=1&catch=1&always=1`)).status).toBe(201);
      expect((await post(port, `/signup?name=${failed}&fail=1`)).status).toBe(500);
      const { journal, drops, stats } = await report(port);
      expect(journal).toEqual([{ name: always, inTransaction: false, sameRequest: true, rows: 0 }]);
      expect(drops).toEqual(
        expect.arrayContaining([
          { name: caught, reason: 'transaction-rolled-back' },
          { name: failed, reason: 'transaction-rolled-back' },
        ]),
      );
      expect(drops).toHaveLength(2);
      expect(stats).toMatchObject({ succeeded: 1, dropped: 2, queued: 0 });
    }, 30_000);

    it('500 concurrent requests, half rolled back: exact counts', async () => {
      const port = await startApp({ ADAPTER: adapter });
      const prefix = unique('load');
      const responses = await Promise.all(
        Array.from({ length: 500 }, (_, i) => post(port, `/signup?name=${prefix}-${i}${i % 2 ? '&fail=1&catch=1' : ''}`)),
      );
      expect(responses.every((response) => response.status === 201)).toBe(true);
      const { journal, drops, stats } = await report(port);
      const ran = journal.map((seen) => Number(seen.name.slice(prefix.length + 1))).sort((a, b) => a - b);
      expect(ran).toEqual(Array.from({ length: 250 }, (_, i) => i * 2));
      expect(journal.every((seen) => seen.rows === 1 && !seen.inTransaction && seen.sameRequest)).toBe(true);
      expect(drops).toHaveLength(250);
      expect(drops.every((drop) => drop.reason === 'transaction-rolled-back')).toBe(true);
      expect(stats).toMatchObject({ succeeded: 250, dropped: 250, queued: 0, running: 0 });
    }, 60_000);

    it('nested: REQUIRES_NEW lets its task go at its own commit; a savepoint follows the outer transaction', async () => {
      const port = await startApp({ ADAPTER: adapter });
      const [own, inner, released] = [unique('requires-new'), unique('savepoint'), unique('released')];
      // REQUIRES_NEW commits on its own: its task runs, though the outer transaction rolls back.
      await post(port, `/signup?name=${own}&mode=requires-new&fail=1&catch=1`);
      // A savepoint rolled back inside a transaction that commits: its task is dropped, the outer one's runs.
      await post(port, `/signup?name=${inner}&mode=savepoint-rollback`);
      // A savepoint released inside a transaction that rolls back: dropped with the outer transaction.
      await post(port, `/signup?name=${released}&mode=savepoint&fail=1&catch=1`);
      const { journal, drops } = await report(port);
      expect(journal).toEqual(
        expect.arrayContaining([
          { name: own, inTransaction: false, sameRequest: true, rows: 1 },
          { name: inner, inTransaction: false, sameRequest: true, rows: 1 },
        ]),
      );
      expect(journal).toHaveLength(2);
      expect(drops).toEqual(
        expect.arrayContaining([
          { name: `${inner}-inner`, reason: 'transaction-rolled-back' },
          { name: released, reason: 'transaction-rolled-back' },
        ]),
      );
      expect(drops).toHaveLength(2);
    }, 30_000);

    it('AppBackgroundTasks in a cron-style transaction: the task waits for the commit, and is dropped on rollback', async () => {
      const port = await startApp({ ADAPTER: adapter });
      const [committed, rolledBack] = [unique('cron'), unique('cron-rollback')];
      await post(port, `/cron?name=${committed}`);
      await post(port, `/cron?name=${rolledBack}&fail=1`);
      const { journal, drops } = await report(port);
      expect(journal).toEqual([{ name: committed, inTransaction: false, sameRequest: true, rows: 1 }]);
      expect(drops).toEqual([{ name: rolledBack, reason: 'transaction-rolled-back' }]);
    }, 30_000);

    it('before the fix (without the option): an app task runs inside the open transaction, and a rolled-back one runs anyway', async () => {
      const port = await startApp({ ADAPTER: adapter, TRANSACTIONS: 'off' });
      const [committed, rolledBack, request] = [unique('cron'), unique('cron-rollback'), unique('caught')];
      await post(port, `/cron?name=${committed}`);
      await post(port, `/cron?name=${rolledBack}&fail=1`);
      await post(port, `/signup?name=${request}&fail=1&catch=1`);
      const { journal, drops } = await report(port);
      // What the option fixes: each ran inside a transaction that had not committed, or for a row that never was.
      expect(journal).toEqual(
        expect.arrayContaining([
          { name: committed, inTransaction: true, sameRequest: true, rows: 1 },
          { name: rolledBack, inTransaction: true, sameRequest: true, rows: 1 },
          { name: request, inTransaction: false, sameRequest: true, rows: 0 },
        ]),
      );
      expect(drops).toEqual([]);
    }, 30_000);
  });

  describeWithRedis('with BullMQ', (redis) => {
    it.each(['typeorm', 'drizzle'])(
      '%s: the job is enqueued after the commit, and never for a rollback',
      async (adapter) => {
        const { connection, prefix } = redis();
        const queueName = `bt-tx-${adapter}-${process.pid}-${Date.now()}`;
        const port = await startApp({ ADAPTER: adapter, BULLMQ: JSON.stringify({ connection, prefix, queueName }) });
        const [committed, rolledBack] = [`${queueName}-committed`, `${queueName}-rolled-back`];
        expect((await post(port, `/signup?name=${committed}&mode=job`)).status).toBe(201);
        expect((await post(port, `/signup?name=${rolledBack}&mode=job&fail=1&catch=1`)).status).toBe(201);
        const { journal, drops, stats } = await report(port, 1);
        expect(journal).toEqual([{ name: committed, job: true, inTransaction: false, rows: 1 }]);
        expect(drops).toEqual([{ name: 'welcome', reason: 'transaction-rolled-back' }]);
        expect(stats).toMatchObject({ dropped: 1, jobs: expect.objectContaining({ dispatched: 1 }) });
      },
      30_000,
    );
  });

  describe('startup errors', () => {
    it('without ClsModule and its transactional plugin, startup fails saying what to configure', async () => {
      const app = start({ DATABASE_URL: url, TABLE: table, CLS: 'none' });
      apps.push(app);
      expect(await app.exited).toBe(1);
      expect(app.output()).toContain(`STARTUP FAILED: ${TRANSACTIONS_WITHOUT_HOST}`);
    }, 30_000);

    it('without @nestjs-cls/transactional installed, startup fails saying what to install', async () => {
      const app = start({ DATABASE_URL: url, TABLE: table, CLS: 'none' }, ['--import', HIDE_PACKAGE]);
      apps.push(app);
      expect(await app.exited).toBe(1);
      expect(app.output()).toContain(`STARTUP FAILED: ${TRANSACTIONS_WITHOUT_PACKAGE}`);
    }, 30_000);
  });
});
