// One variant's Nest app on Express, run as a child process by the driver.
// Controlled over the IPC channel, not HTTP, so that control traffic never
// counts as load: `reset` and `read` bracket a measurement, `heap` reports
// the heap after a full GC, `close` shuts the app down and reports counts.
// Usage: node --expose-gc bench/server.mjs <variant>
import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { BackgroundTasksMonitor } from '../dist/index.js';
import { counts, variants } from './variants.mjs';

const name = process.argv[2];
const variant = variants[name];
if (!variant) throw new Error(`Unknown variant "${name}"; known: ${Object.keys(variants).join(', ')}`);
if (!process.send) throw new Error('bench/server.mjs runs as a child of the bench driver (it needs an IPC channel)');

// The driver is gone: nothing will ever close this app.
process.on('disconnect', () => process.exit(3));

const options = { logger: ['error', 'warn'] };
const app = variant.create ? await variant.create(options) : await NestFactory.create(variant.build(), options);
await app.listen(0, '127.0.0.1');
const runner = variant.usesModule ? app.get(BackgroundTasksMonitor) : undefined;
if (variant.countsFromRunner) {
  // The sample's own handlers and tasks count nothing: the server counts the
  // requests, the runner the tasks that succeeded.
  app.getHttpServer().on('request', () => counts.requests++);
  Object.defineProperty(counts, 'tasksRun', { get: () => runner.stats().succeeded });
}

/**
 * Waits until every task of every request served so far has run, or 10 s
 * have passed: then a task is lost, and the driver's count check says so
 * (rather than a command timing out).
 */
async function idle() {
  const deadline = Date.now() + 10_000;
  if (runner) {
    const timeout = new AbortController();
    const expired = sleep(10_000, undefined, { signal: timeout.signal }).catch(() => {});
    await Promise.race([runner.whenIdle(), expired]);
    timeout.abort();
  }
  // The hand-written variants have no whenIdle(); their tasks are counted.
  while (counts.tasksRun < counts.requests * variant.tasksPerRequest && Date.now() < deadline) await sleep(2);
}

async function fullGc() {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    globalThis.gc();
  }
}

/** The clock of V8's CPU profiles, so that bench/profile.mjs can cut out the measured window. */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

let mark = { cpu: process.cpuUsage(), requests: 0, tasksRun: 0 };

const commands = {
  async reset() {
    await idle();
    mark = { cpu: process.cpuUsage(), requests: counts.requests, tasksRun: counts.tasksRun };
    return { at: monotonicMicros() };
  },
  // CPU time since `reset`, read once the tasks of those requests have run: their cost counts too.
  async read() {
    await idle();
    const cpu = process.cpuUsage(mark.cpu);
    return {
      cpuMicros: cpu.user + cpu.system,
      systemMicros: cpu.system,
      requests: counts.requests - mark.requests,
      tasksRun: counts.tasksRun - mark.tasksRun,
      at: monotonicMicros(),
    };
  },
  async heap() {
    await idle();
    await fullGc();
    return { heapUsed: process.memoryUsage().heapUsed };
  },
  // app.close() waits for the module's tasks (it is what users call); then the counts are final.
  async close() {
    await app.close();
    await idle();
    return { ...counts, tasksPerRequest: variant.tasksPerRequest, stats: runner?.stats() };
  },
};

process.on('message', async ({ id, command }) => {
  try {
    const reply = await commands[command]();
    // After `close`, exit once the reply is out (a --cpu-prof profile is written on exit).
    process.send({ id, ...reply }, command === 'close' ? () => process.exit(0) : undefined);
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});

process.send({ ready: true, port: app.getHttpServer().address().port, pid: process.pid });
