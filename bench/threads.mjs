// Thread tasks against CPU work on the event loop. Run by bench/run.mjs
// (`npm run bench`, and `npm run bench -- --threads` for this part alone);
// prints one JSON line.
//
// Latency: a trivial GET /ping every 20 ms for 3 s, from this process, against
// the app of bench/threads-server.mjs (not pinned: a thread task needs a CPU
// besides the event loop's), in three variants taking turns, each round in a
// fresh server: 10 requests that add no task (the baseline: the same requests,
// no CPU work); 10 that each add a task burning 300 ms on the event loop; the
// same 10 as thread tasks. The 10 are sent with the first ping. The p99 of
// each is the median over rounds. Then the CPU cost of dispatching a trivial
// thread task, against calling it on the loop, for information: the process's
// CPU (main and worker threads together), per task.
// Usage: node bench/threads.mjs <rounds> <dispatched tasks per sample>
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { TaskRunner } from '../dist/core/task-runner.js';
import { RequestBackgroundTasks } from '../dist/core/request-background-tasks.js';
import { nothingInThread } from './threads-task.mjs';

const [rounds = 5, dispatched = 2_000] = process.argv.slice(2).map(Number);
const PING_EVERY = 20;
const WINDOW = 3_000;
const CPU_REQUESTS = 10;
const VARIANTS = ['none', 'loop', 'thread'];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (times, p) => [...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.floor(p * times.length))];

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** One request; resolves with its time in ms, and fails on anything but a 2xx. */
function send(port, method, path) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode >= 300) reject(new Error(`${method} ${path} answered ${res.statusCode}: ${body}`));
        else resolve({ time: performance.now() - start, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function startServer() {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./threads-server.mjs', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).port);
    });
    child.once('exit', (code) => reject(new Error(`bench/threads-server.mjs exited with ${code}`)));
  });
  return { child, port };
}

/** One variant in a fresh server: the ping times of one window, with the CPU requests (if any) at its start. */
async function measure(variant) {
  const { child, port } = await startServer();
  try {
    // Warm-up, the same for every variant: pings, and one trivial thread task, which starts the pool.
    await send(port, 'POST', '/warm');
    for (let i = 0; i < 50; i++) await send(port, 'GET', '/ping');
    await send(port, 'GET', '/idle');
    const pings = [];
    const cpu = variant === 'baseline' ? [] : Array.from({ length: CPU_REQUESTS }, () => send(port, 'POST', `/cpu/${variant}`));
    const start = performance.now();
    for (let at = 0; at < WINDOW; at += PING_EVERY) {
      const wait = start + at - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pings.push(send(port, 'GET', '/ping'));
    }
    const times = (await Promise.all(pings)).map(({ time }) => time);
    await Promise.all(cpu);
    const stats = JSON.parse((await send(port, 'GET', '/idle')).body);
    const expected = 1 + (variant === 'none' ? 0 : CPU_REQUESTS); // the warm-up's task too
    if (stats.succeeded !== expected || stats.failed || stats.timedOut || stats.dropped) {
      throw new Error(`${variant}: runner stats ${JSON.stringify(stats)} (expected ${expected} succeeded, nothing else)`);
    }
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: Math.max(...times) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

/** Process CPU µs per task of `count` trivial tasks, all added to one request at once, `concurrent`. */
async function dispatchCost(fn, count) {
  const runner = new TaskRunner({});
  const tasks = new RequestBackgroundTasks(runner, { transport: 'none', method: '', path: '' });
  tasks.concurrent = true;
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) tasks.addTask(fn);
  runner.settle(tasks.batch, 'succeeded');
  await runner.whenIdle();
  const used = process.cpuUsage(before);
  const stats = runner.stats();
  await runner.onApplicationShutdown();
  if (stats.succeeded !== count) throw new Error(`dispatch: ${JSON.stringify(stats)} (expected ${count} succeeded)`);
  return (used.user + used.system) / count;
}

const runs = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
for (let round = 0; round < rounds; round++) {
  const shift = round % VARIANTS.length;
  for (const variant of [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)]) {
    const result = await measure(variant);
    runs[variant].push(result);
    console.error(
      `threads round ${round + 1}/${rounds} ${variant.padEnd(8)} p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  max ${result.max.toFixed(1)} ms`,
    );
  }
}
const latency = Object.fromEntries(
  VARIANTS.map((variant) => [
    variant,
    {
      p50: median(runs[variant].map((r) => r.p50)),
      p99: median(runs[variant].map((r) => r.p99)),
      max: median(runs[variant].map((r) => r.max)),
    },
  ]),
);

const loop = [];
const thread = [];
await dispatchCost(nothingInThread, 200); // starts the pool, and warms both paths
for (let round = 0; round < rounds; round++) {
  const pair = [
    ['loop', () => dispatchCost(function nothing() {}, dispatched)],
    ['thread', () => dispatchCost(nothingInThread, dispatched)],
  ];
  for (const [variant, measureCost] of round % 2 === 0 ? pair : pair.reverse()) {
    (variant === 'loop' ? loop : thread).push(await measureCost());
  }
}
agent.destroy();
console.log(JSON.stringify({ rounds, latency, dispatch: { loop: median(loop), thread: median(thread), tasks: dispatched } }));
