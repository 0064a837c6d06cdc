import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Piscina } from 'piscina';
import { ThreadPool } from '../../../lib/threads/thread-pool.js';
import { threadTaskOf } from '../../../lib/threads/thread-task.js';
import * as threads from '../../fixtures/thread-tasks.mjs';
import { waitFor } from '../../utils/wait-for.js';

/**
 * The pool is loaded on the first thread task, not before: checked in a
 * fresh Node process on the build (which Jest's module registry would hide),
 * through which modules Node has loaded. And it closes with no thread left.
 */

const root = join(import.meta.dirname, '../../..');
const url = (path: string) => pathToFileURL(join(root, path)).href;

const SCRIPT = `
import { createRequire } from 'node:module';
import { TaskRunner } from '${url('dist/core/task-runner.js')}';
import { RequestBackgroundTasks } from '${url('dist/core/request-background-tasks.js')}';
import * as threads from '${url('test/fixtures/thread-tasks.mjs')}';

const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/piscina/'));
const runner = new TaskRunner({});
const run = async (add) => {
  const tasks = new RequestBackgroundTasks(runner, { transport: 'none', method: '', path: '' });
  add(tasks);
  runner.settle(tasks.batch, 'succeeded');
  await runner.whenIdle();
};
const seen = {};
await run((tasks) => tasks.addTask(() => undefined));
seen.afterPlainTask = loaded();
const log = threads.counter();
await run((tasks) => tasks.addTask(threads.append, log, 1));
seen.afterThreadTask = loaded();
seen.ran = log[1];
await runner.onApplicationShutdown();
console.log(JSON.stringify(seen));
`;

describe('ThreadPool', () => {
  it('loads piscina on the first thread task only: an app without thread tasks loads none of it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ afterPlainTask: false, afterThreadTask: true, ran: 1 });
  });

  it('closes once every thread has exited, also one that an aborted task ended a moment before', async () => {
    const pool = new ThreadPool({ maxThreads: 2, minThreads: 0, idleTimeout: 1000 }, (error) => {
      throw error;
    });
    const counter = threads.counter();
    const controller = new AbortController();
    const spinning = pool.run('spin', threadTaskOf(threads.spin)!, [counter], controller.signal).catch((error: unknown) => error);
    await waitFor('the thread to spin', () => Atomics.load(counter, 0) > 0);
    // The pool's piscina, whose Worker objects say when they have exited.
    const [worker] = (await (pool as unknown as { pool: Promise<Piscina> }).pool).threads;
    controller.abort();
    expect(await spinning).toMatchObject({ name: 'AbortError' });

    await pool.close();
    // A Worker's threadId is -1 once it has exited.
    expect(worker.threadId).toBe(-1);
  });
});
