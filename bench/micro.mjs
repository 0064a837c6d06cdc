// Runner throughput, in-process and without HTTP: how many trivial sync tasks
// per second go through the real BackgroundTasks of a request and the runner.
// A "flush" is one request's life as the runner sees it (test/utils/
// request-tasks.ts does the same): add k tasks, the response is sent with a
// 200 and emits 'close', the tasks run.
// Run as a child pinned to one CPU; prints one JSON line.
// Usage: node bench/micro.mjs <seconds per sample> <samples>
import { EventEmitter } from 'node:events';
// What the REQUEST-scoped provider and @Background() use: not public, but built.
import { TaskRunner } from '../dist/core/task-runner.js';
import { httpTasksOf } from '../dist/http/http-background-tasks.js';

const [secondsPerSample = 0.5, samples = 5] = process.argv.slice(2).map(Number);

let tasksRun = 0;
function task(n) {
  tasksRun += n;
}

const runner = new TaskRunner({});
function flush(k) {
  const res = new EventEmitter();
  res.closed = false;
  res.req = { method: 'POST', url: '/bench', res };
  const tasks = httpTasksOf(res.req, runner);
  for (let i = 0; i < k; i++) tasks.addTask(task, 1);
  res.statusCode = 200;
  res.headersSent = res.closed = true;
  res.emit('close');
}

/** The harness alone (the fake request and response), to show what the figure includes. */
function harnessOnly() {
  const res = new EventEmitter();
  res.closed = false;
  res.req = { method: 'POST', url: '/bench', res };
  res.once('close', () => {});
  res.closed = true;
  res.emit('close');
  return res.req;
}

/** Tasks (or harness calls) per second: the median of `samples` timed batches. */
async function rate(k, fn) {
  const perBatch = 1000;
  const results = [];
  for (let s = -1; s < samples; s++) {
    const start = process.hrtime.bigint();
    const until = start + BigInt(Math.round(secondsPerSample * 1e9));
    let flushes = 0;
    let now = start;
    while (now < until) {
      for (let i = 0; i < perBatch; i++) fn(k);
      flushes += perBatch;
      now = process.hrtime.bigint();
    }
    // Let promise jobs and the GC catch up between samples.
    await new Promise((resolve) => setImmediate(resolve));
    if (s >= 0) results.push((flushes * k) / (Number(now - start) / 1e9)); // s = -1 is the warm-up
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)];
}

const before = tasksRun;
const oneTask = await rate(1, flush);
const tenTasks = await rate(10, flush);
const harness = await rate(1, harnessOnly);
await runner.whenIdle();
const stats = runner.stats();
const ran = tasksRun - before;
if (stats.succeeded !== ran || stats.queued !== 0 || stats.running !== 0) {
  throw new Error(`micro: ${ran} tasks ran but the runner counts ${JSON.stringify(stats)}`);
}
console.log(JSON.stringify({ oneTask, tenTasks, harness, tasks: ran }));
