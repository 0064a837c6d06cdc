import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/**
 * The pool is loaded on the first thread task, not before: checked in a
 * fresh Node process on the build (which Jest's module registry would hide),
 * through which modules Node has loaded.
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
});
