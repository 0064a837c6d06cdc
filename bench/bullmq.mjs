// The BullMQ backend's costs, run as a child of bench/run.mjs (pinned to the
// server CPU); prints one JSON line. Needs redis-server on the PATH (it starts
// a private one on a Unix socket), and a fresh dist/.
//
// 1. Dispatch: the CPU time of this process per job, for the module's
//    dispatch (the JSON check of the arguments, then the dispatcher's bounded
//    add) against a raw queue.add() of the same name, data and job options,
//    on the same kind of connection; and, for information, the whole path
//    from AppBackgroundTasks.addTask() (the runner included). All add to the
//    same queue, in batches of 100, each waited for. The three take turns a
//    batch at a time, so that a busy moment of the machine falls on all of
//    them; each round starts after a full GC (not timed), the overhead is the
//    median over rounds of dispatch ÷ raw, and its range is reported.
// 2. End to end: jobs per second through 1 and 2 worker processes (the
//    module's worker, concurrency 50): a queue filled with addBulk(), timed
//    until it is empty.
//
// Usage: node bench/bullmq.mjs <jobs of each kind per round> <rounds> <end-to-end jobs (0: skip)>
import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { AppBackgroundTasks, BackgroundTasksMonitor, BackgroundTasksModule } from '../dist/index.js';
import { BackgroundTasksBullMQModule } from '../dist/bullmq/index.js';
import { DEFAULT_JOB_OPTIONS } from '../dist/bullmq/bullmq-options.js';
// The dispatch step alone, as the runner calls it: not public, but built.
import { Task } from '../dist/core/task.js';
import { TaskRunner } from '../dist/core/task-runner.js';
import { Handlers } from './bullmq-handlers.mjs';

const [perRound = 2000, rounds = 3, endToEnd = 5000] = process.argv.slice(2).map(Number);
const BATCH = 100;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/** A typical payload: ids and a few plain values, as the docs advise. */
const payload = {
  orderId: 'ord_2f9c1e',
  userId: 'usr_81a4',
  items: [1, 2, 3, 4, 5].map((n) => ({ sku: `sku-${n}`, quantity: n, price: 9.99 * n })),
  note: 'leave at the door',
};

if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.log(JSON.stringify({ skipped: 'redis-server is not on the PATH (apt-get install redis-server)' }));
  process.exit(0);
}

const dir = mkdtempSync(path.join(tmpdir(), 'bt-bench-redis-'));
const socket = path.join(dir, 'redis.sock');
const children = [];
const redis = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(redis);
await new Promise((resolve, reject) => {
  let out = '';
  redis.stdout.on('data', (chunk) => {
    out += chunk;
    if (/ready to accept connections/i.test(out)) resolve();
  });
  redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
});
redis.stdout.resume();

try {
  const dispatch = await measureDispatch();
  const jobsPerSecond = endToEnd > 0 ? { one: await measureEndToEnd(1), two: await measureEndToEnd(2) } : undefined;
  console.log(JSON.stringify({ ...dispatch, jobsPerSecond, endToEnd }));
} finally {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

async function measureDispatch() {
  class WebModule {}
  Module({
    imports: [
      BackgroundTasksModule.forRoot({}),
      BackgroundTasksBullMQModule.forRoot({ connection: { path: socket }, queueName: 'dispatch', worker: false }),
    ],
    providers: [Handlers],
  })(WebModule);
  const app = await NestFactory.createApplicationContext(WebModule, { logger: ['error', 'warn'] });
  const tasks = app.get(AppBackgroundTasks);
  const runner = app.get(BackgroundTasksMonitor);
  const handler = app.get(Handlers).record;
  const taskRunner = app.get(TaskRunner);
  const registered = taskRunner.handlers.of(handler);
  const dispatcher = taskRunner.dispatcher;
  // The raw side: BullMQ alone, with the same connection settings as the module's enqueueing one.
  const connection = new Redis({ path: socket, enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
  await new Promise((resolve) => connection.once('ready', resolve));
  const queue = new Queue('dispatch', { connection, defaultJobOptions: DEFAULT_JOB_OPTIONS });
  await queue.waitUntilReady();

  // One batch of each kind at a time, in turn (A B C, then C B A), so that
  // all three meet the same machine; the dispatch batch's tasks are made
  // before its clock starts: only the check and the add are measured.
  const makeTasks = () =>
    Array.from({ length: BATCH }, () => new Task(handler, [payload], undefined, undefined, false, Infinity, false, registered));
  const batches = {
    async raw() {
      const adds = [];
      for (let j = 0; j < BATCH; j++) adds.push(queue.add('record', { args: [payload] }));
      await Promise.all(adds);
    },
    async dispatch(made) {
      const adds = [];
      for (const task of made) {
        taskRunner.admit(task);
        adds.push(dispatcher.dispatch(task));
      }
      if ((await Promise.all(adds)).some((outcome) => outcome !== 'enqueued')) throw new Error('an enqueue failed');
    },
    async addTask() {
      for (let j = 0; j < BATCH; j++) tasks.addTask(handler, payload);
      await runner.whenIdle();
    },
  };
  const names = Object.keys(batches);
  /** CPU µs per job of each kind, over `jobs` jobs of each. */
  const round = async (jobs) => {
    const cpu = { raw: 0, dispatch: 0, addTask: 0 };
    gc();
    for (let k = 0; k < jobs / BATCH; k++) {
      for (const name of k % 2 === 0 ? names : names.toReversed()) {
        const made = name === 'dispatch' ? makeTasks() : undefined;
        const start = process.cpuUsage();
        await batches[name](made);
        const { user, system } = process.cpuUsage(start);
        cpu[name] += user + system;
      }
    }
    for (const name of names) cpu[name] /= jobs;
    return cpu;
  };
  await round(Math.min(perRound, 2_000)); // warm-up
  const samples = { raw: [], dispatch: [], addTask: [] };
  for (let r = 0; r < rounds; r++) {
    const cpu = await round(perRound);
    for (const name of names) samples[name].push(cpu[name]);
  }
  const dispatched = runner.stats().jobs.dispatched;
  const expected = rounds * perRound + Math.min(perRound, 2_000);
  if (dispatched !== expected) throw new Error(`${dispatched} tasks dispatched through addTask(), expected ${expected}`);
  await app.close();
  await queue.close();
  connection.disconnect();
  const ratios = (name) => samples[name].map((value, i) => (value / samples.raw[i] - 1) * 100);
  const overheadOf = (name) => median(ratios(name));
  return {
    overheadRange: [Math.min(...ratios('dispatch')), Math.max(...ratios('dispatch'))],
    rawCpuPerJob: median(samples.raw),
    dispatchCpuPerJob: median(samples.dispatch),
    addTaskCpuPerJob: median(samples.addTask),
    overhead: overheadOf('dispatch'),
    addTaskOverhead: overheadOf('addTask'),
  };
}
async function measureEndToEnd(workers) {
  const queueName = `e2e-${workers}`;
  const started = [];
  for (let i = 0; i < workers; i++) {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./bullmq-worker.mjs', import.meta.url))], {
      env: { ...process.env, REDIS_PATH: socket, QUEUE: queueName, CONCURRENCY: '50' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    started.push(new Promise((resolve) => child.once('message', resolve)));
  }
  await Promise.all(started);
  const connection = new Redis({ path: socket, maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, defaultJobOptions: { removeOnComplete: true } });
  const jobs = Array.from({ length: endToEnd }, () => ({ name: 'record', data: { args: [payload] } }));
  const start = performance.now();
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  for (;;) {
    const { waiting, active, delayed, failed } = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    if (failed > 0) throw new Error(`${failed} jobs failed`);
    if (waiting + active + delayed === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - start) / 1000;
  await queue.close();
  connection.disconnect();
  // Stopped, and waited for, before the next run or Redis goes away.
  await Promise.all(
    children.splice(1).map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    }),
  );
  return endToEnd / seconds;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
