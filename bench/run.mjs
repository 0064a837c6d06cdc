// The benchmark. Needs a fresh dist/ (npm run build).
//
//   npm run bench                 full run (~15 min on 2 vCPUs): judges the budgets, exits 1 on a MISS,
//                                 rewrites bench/RESULTS.md and bench/results.svg
//   npm run bench -- --no-fail    the same, but a MISS does not fail the command
//   npm run bench -- --smoke      ~25 s: every variant runs and every task is counted; no timing judged,
//                                 nothing rewritten
//   --rounds=N --requests=N       override rounds, and requests per measured window (results not written)
//   --pairs=2,3b                  only these pairs (info, 1, 1b, 2, 2b, 3, 3b, 4, 5, 6, 7; "b": the info row after a pair),
//                                 and only their table: for iterating on one cost (results not written)
//   --pairs=fastapi               only the FastAPI comparison (about 30 s a round; --rounds=3 for a quick look);
//                                 it can be combined with pairs (--pairs=2,fastapi)
//   --bullmq                      only the BullMQ backend (bench/bullmq.mjs): dispatch CPU per job against a raw
//                                 queue.add(), and jobs/s through 1 and 2 worker processes (results not written);
//                                 full and smoke runs include it. Needs redis-server on the PATH (else: skipped)
//   --threads                     only thread tasks (bench/threads.mjs): a trivial GET's p99 while 10 requests each
//                                 add a 300 ms CPU task, on the event loop and as thread tasks, against the same
//                                 requests with no CPU task; and the CPU cost of dispatching a thread task
//                                 (results not written); full and smoke runs include it
//   DATABASE_URL (or PG_URL)      the PostgreSQL of pair 7, transactions (none, or no answer: pair 7 is skipped,
//                                 with a note; under CI=true the bench fails instead)
//   BENCH_PYTHON=/path/to/python3 the Python for FastAPI (default: the first python3 on the PATH, then
//                                 /usr/bin/python3, that can import fastapi and uvicorn; none: skipped, with a note)
//
// Pairs of real Nest apps (bench/variants.mjs), each in its own process,
// loaded over loopback by autocannon; the main figure is the server's CPU time
// per request. Then the runner's in-process throughput, and the heap after
// 100,000 requests with tasks. Where the time goes: bench/profile.mjs.
// For reference, no budget: FastAPI's own first example of background tasks,
// served by uvicorn, against the same route in our sample on Express and on
// Fastify, measured the same way; skipped, with a note, where python3 has no
// fastapi (on Debian: apt-get install python3-fastapi python3-uvicorn
// python3-uvloop python3-httptools).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  allCpus,
  findFastapi,
  GRAPHQL_REQUEST,
  killChildren,
  latency,
  load,
  pinCpus,
  PythonServer,
  Server,
  spawnTracked,
  TRANSACTION_REQUEST,
} from './driver.mjs';
import { withDatabase } from './database.mjs';
import {
  budgetLine,
  chartSvg,
  comparisonMarkdown,
  fixed,
  overhead,
  pairTable,
  resultsMarkdown,
  signed,
  summarize,
  table,
  thousands,
  variantTable,
} from './report.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
/** Every CPU, read before pinCpus() pins this process to one. */
const unpinned = allCpus();

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    'no-fail': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    requests: { type: 'string' },
    pairs: { type: 'string' },
    bullmq: { type: 'boolean', default: false },
    threads: { type: 'boolean', default: false },
  },
});

// Full runs are sized for stable medians on a small shared machine; the smoke
// run only proves that everything still runs and counts.
// `requests` is per window; each variant of a pair gets `windows` of them per round.
const plan = flags.smoke
  ? {
      rounds: 1,
      windows: 2,
      warmup: 300,
      requests: 500,
      memory: { warmup: 300, requests: 2_000 },
      micro: [0.05, 1],
      bullmq: [200, 1, 500],
      // rounds, dispatched tasks per sample
      threads: [1, 200],
    }
  : {
      rounds: 6,
      windows: 4,
      warmup: 10_000,
      requests: 10_000,
      memory: { warmup: 10_000, requests: 100_000 },
      micro: [0.5, 5],
      // jobs of each kind per dispatch round, rounds, jobs end to end
      bullmq: [5_000, 7, 20_000],
      threads: [5, 2_000],
    };
for (const flag of ['rounds', 'requests']) {
  if (flags[flag] === undefined) continue;
  plan[flag] = Number(flags[flag]);
  if (!Number.isInteger(plan[flag]) || plan[flag] < (flag === 'rounds' ? 1 : 10)) {
    throw new Error(`--${flag} must be an integer${flag === 'rounds' ? '' : ' of at least 10 (one per connection)'}`);
  }
}
const judge = !flags.smoke;
const custom = Boolean(flags.rounds || flags.requests || flags.pairs || flags.bullmq || flags.threads);

const labels = {
  bare: 'Nest app, no interceptor',
  noop: 'hand-written no-op APP_INTERCEPTOR',
  'module-unused': 'BackgroundTasksModule imported, route adds no task',
  'hand-param': '@Req(): array on the request, res.once("finish"), a loop',
  'module-param': '@Background() tasks, one trivial task',
  'hand-ctor': 'hand-written REQUEST-scoped provider, one trivial task',
  'module-ctor': 'constructor-injected BackgroundTasks, one trivial task',
  'hand-param+noop': 'hand-param behind the no-op APP_INTERCEPTOR',
  'hand-ctor+noop': 'hand-ctor behind the no-op APP_INTERCEPTOR',
  'hand-slow': 'as hand-param, one 100 ms async task',
  'module-slow': 'as module-param, one 100 ms async task',
  'hand-traced': 'request spans; a hand-written span and metrics per task',
  'module-traced': 'request spans; @Background() tasks with tracing: true',
  'hand-graphql': 'GraphQL mutation (Apollo, Express): @Context() req, as hand-param',
  'module-graphql': 'GraphQL mutation (Apollo, Express): @Background(), one trivial task',
  'hand-tx': 'POST: a row inserted in a transaction (Drizzle, PostgreSQL), then one trivial task added by hand',
  'module-tx': 'POST: as hand-tx, the task added in the transaction, transactions: true',
};

const pairs = [
  { label: 'info', title: "Nest's interceptor machinery", baseline: 'bare', subject: 'noop' },
  { label: 'pair 1', title: 'module imported, route without tasks', baseline: 'noop', subject: 'module-unused', budget: 3 },
  {
    label: 'info 1',
    title: 'pair 1 against the bare app, as the module adds no interceptor to it',
    baseline: 'bare',
    subject: 'module-unused',
  },
  { label: 'pair 2', title: '@Background(), one trivial task', baseline: 'hand-param', subject: 'module-param', budget: 5 },
  {
    label: 'info 2',
    title: 'pair 2 against a baseline that has the no-op interceptor too',
    baseline: 'hand-param+noop',
    subject: 'module-param',
  },
  { label: 'pair 3', title: 'constructor injection, one trivial task', baseline: 'hand-ctor', subject: 'module-ctor', budget: 5 },
  {
    label: 'info 3',
    title: 'pair 3 against a baseline that has the no-op interceptor too',
    baseline: 'hand-ctor+noop',
    subject: 'module-ctor',
  },
  { label: 'pair 4', title: 'one 100 ms async task', baseline: 'hand-slow', subject: 'module-slow', budget: 5 },
  {
    label: 'pair 5',
    title: 'tracing on: a span and metrics per task',
    baseline: 'hand-traced',
    subject: 'module-traced',
    budget: 5,
  },
  {
    label: 'pair 6',
    title: 'GraphQL mutation, @Background(), one trivial task',
    baseline: 'hand-graphql',
    subject: 'module-graphql',
    budget: 5,
    // Both are GraphQL apps, so that Nest's GraphQL layer is on both sides.
    request: GRAPHQL_REQUEST,
  },
  {
    label: 'pair 7',
    title: 'transactions: true, one trivial task held until the commit',
    baseline: 'hand-tx',
    subject: 'module-tx',
    budget: 5,
    // Both insert a row in a transaction of @nestjs-cls/transactional, on PostgreSQL at DATABASE_URL.
    request: TRANSACTION_REQUEST,
    database: true,
    // Three database round trips a request: fewer requests, so that the pair takes minutes, not a quarter hour.
    warmup: Math.min(plan.warmup, 2_000),
    requests: flags.requests === undefined ? Math.min(plan.requests, 2_500) : plan.requests,
  },
];
/** Pair 7, the one that needs PostgreSQL. */
const transactionPair = pairs.find((pair) => pair.database);

/**
 * The reference row: FastAPI's first example of background tasks, served by
 * uvicorn with one worker (bench/fastapi/), and the same route in our sample
 * (sample/notifications/), on Express and on Fastify. No budget: it never
 * fails the run. The three are measured together, in interleaved windows.
 *
 * Over one connection, not ten: one request at a time. The task writes a
 * file, through libuv's thread pool, whose threads share the one server CPU
 * with the event loop; ten connections keep the event loop busy, the threads
 * fall behind, the sample's queue reaches its `maxQueued` (1,000) and the
 * sample answers 503, as it is configured to (FastAPI has no such limit: its
 * pending tasks just pile up). autocannon's rate limit does not help: it sends
 * each second's requests in one burst. One connection serves fewer requests a
 * second: hence fewer of them per window than for the pairs.
 */
const comparison = {
  reference: 'fastapi',
  variants: ['fastapi', 'sample-express', 'sample-fastify'],
  request: { method: 'POST', path: '/send-notification/someone@example.com', connections: 1 },
  warmup: Math.min(plan.warmup, 2_000),
  requests: flags.requests === undefined ? Math.min(plan.requests, 2_500) : plan.requests,
};

/**
 * `--pairs` names them as bench/profile.mjs does: info, 1, 2, 2b (the info row
 * after pair 2), …; and `fastapi` for the comparison. Returns the pairs and
 * whether the comparison is in.
 */
function selected() {
  if (flags.pairs === undefined) return { measured: pairs, withFastapi: true };
  const byName = (name) => (name === 'info' ? 'info' : name.endsWith('b') ? `info ${name.slice(0, -1)}` : `pair ${name}`);
  const names = flags.pairs.split(',').map((name) => name.trim());
  const measured = names
    .filter((name) => name !== 'fastapi')
    .map((name) => {
      const pair = pairs.find((p) => p.label === byName(name));
      if (pair === undefined) throw new Error(`--pairs: no pair "${name}" (info, 1, 1b, 2, 2b, 3, 3b, 4, 5, 6, 7, fastapi)`);
      return pair;
    });
  return { measured, withFastapi: names.includes('fastapi') };
}

const log = (...args) => console.error(...args);
const problems = [];

/** Fails loudly if a single task is missing, or a request went unserved. */
function checkCounts(variant, counts, served) {
  const expected = counts.requests * counts.tasksPerRequest;
  const errors = [];
  if (counts.requests !== served)
    errors.push(`the server counted ${counts.requests} requests, the client got ${served} responses`);
  if (counts.tasksRun !== expected)
    errors.push(`${counts.tasksRun} tasks ran for ${counts.requests} requests (expected ${expected})`);
  const stats = counts.stats;
  if (
    stats &&
    (stats.succeeded !== expected || stats.queued || stats.running || stats.failed || stats.dropped || stats.timedOut)
  ) {
    errors.push(`runner stats ${JSON.stringify(stats)} (expected ${expected} succeeded, nothing else)`);
  }
  if (errors.length) throw new Error(`TASKS LOST in ${variant}: ${errors.join('; ')}`);
  return counts.tasksRun;
}

/**
 * One round of a pair: both variants in fresh processes, warmed up, then
 * measured in interleaved windows (A B B A A B …), so that a slow spell of
 * the machine hits both alike. Then both close, and every task is counted.
 */
function measurePair(pair, round, pinning) {
  const start = (variant) => Server.start(variant, { pinning });
  const { request, warmup, requests } = pair;
  return measureGroup([pair.baseline, pair.subject], round, { start, request, warmup, requests });
}

/**
 * One round of a group of variants, as of a pair: each in a fresh process
 * (`start`), warmed up, measured in interleaved windows (A B C C B A …), each
 * loaded with `request`. Which goes first rotates from one round to the next.
 */
async function measureGroup(group, round, { start, request, warmup = plan.warmup, requests: perWindow = plan.requests }) {
  const shift = round % group.length;
  const order = [...group.slice(shift), ...group.slice(0, shift)];
  const servers = {};
  try {
    for (const variant of order) servers[variant] = await start(variant);
    for (const variant of order) await load(servers[variant].port, warmup, request);
    const sums = {};
    for (const variant of order) sums[variant] = { cpu: 0, system: 0, requests: 0, seconds: 0, times: [] };
    for (let window = 0; window < plan.windows; window++) {
      for (const variant of window % 2 === 0 ? order : [...order].reverse()) {
        const server = servers[variant];
        await server.command('reset');
        const { seconds, times } = await load(server.port, perWindow, request);
        const { cpuMicros, systemMicros, requests } = await server.command('read');
        const sum = sums[variant];
        sum.cpu += cpuMicros;
        sum.system += systemMicros;
        sum.requests += requests;
        sum.seconds += seconds;
        sum.times.push(times);
      }
    }
    const results = {};
    for (const variant of order) {
      const tasksRun = checkCounts(variant, await servers[variant].close(), warmup + plan.windows * perWindow);
      const { cpu, system, requests, seconds, times } = sums[variant];
      results[variant] = {
        cpuPerReq: cpu / requests,
        systemPerReq: system / requests,
        reqPerSec: requests / seconds,
        ...latency(times),
        tasksRun,
      };
    }
    return results;
  } finally {
    for (const server of Object.values(servers)) server.kill(); // no-op once it has exited
  }
}

/**
 * Gets the comparison ready: a python3 that has fastapi and uvicorn, the
 * sample compiled against the built package (into a directory of bench/, so
 * that its `import 'nestjs-background-tasks'` finds this package: the test
 * config maps that name to lib/ instead), and a temporary directory for the
 * log files the tasks write. Returns the python3 and the versions, or why it
 * is skipped.
 */
function prepareComparison() {
  const found = findFastapi();
  if (found.python === undefined) {
    const tried = found.tried.length ? found.tried.join(', ') : 'no python3 found';
    return {
      skipped:
        `no python3 here can import fastapi and uvicorn (tried: ${tried}; BENCH_PYTHON=/path/to/python3 names one). ` +
        'On Debian: apt-get install python3-fastapi python3-uvicorn python3-uvloop python3-httptools',
    };
  }
  const logs = mkdtempSync(path.join(os.tmpdir(), 'nestjs-background-tasks-bench-'));
  const build = mkdtempSync(here('./.sample-build-'));
  const cleanup = () => {
    for (const dir of [logs, build]) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  writeFileSync(
    path.join(build, 'tsconfig.json'),
    JSON.stringify({
      extends: path.relative(build, here('../tsconfig.sample.json')),
      // No `paths`: the sample imports the package by its name, as users do.
      compilerOptions: { rootDir: path.relative(build, here('../sample')), outDir: '.', paths: {}, sourceMap: false },
    }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(build, 'tsconfig.json')], { stdio: 'inherit' });
  // Read by the sample servers (bench/variants.mjs, sample/log.ts), which inherit this environment.
  process.env.BENCH_SAMPLE_DIR = build;
  process.env.LOG_FILE = path.join(logs, 'sample-log.txt');
  const cwd = path.join(logs, 'fastapi'); // FastAPI's example writes log.txt into its working directory
  mkdirSync(cwd);
  return { ...found, cwd, nest: nestVersions(), runs: Object.fromEntries(comparison.variants.map((v) => [v, []])) };
}

/** The versions of Nest and of the HTTP frameworks under it, as installed. */
function nestVersions() {
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(here(`../node_modules/${name}/package.json`), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  return { core: version('@nestjs/core'), express: version('express'), fastify: version('fastify') };
}

/** One round of the comparison: FastAPI and the sample on both adapters, interleaved. */
function measureComparison(ready, round, pinning) {
  const start = async (variant) => {
    if (variant !== comparison.reference) return Server.start(variant, { pinning });
    const server = await PythonServer.start(variant, { python: ready.python, cwd: ready.cwd, pinning });
    ready.versions = server.versions;
    return server;
  };
  return measureGroup(comparison.variants, round, {
    start,
    request: comparison.request,
    warmup: comparison.warmup,
    requests: comparison.requests,
  });
}

/** Heap after a drain and a full GC, before and after many requests with tasks. */
async function memory(variant, pinning) {
  const server = await Server.start(variant, { pinning });
  try {
    await load(server.port, plan.memory.warmup);
    const before = (await server.command('heap')).heapUsed;
    await load(server.port, plan.memory.requests);
    const after = (await server.command('heap', 120_000)).heapUsed;
    checkCounts(variant, await server.close(), plan.memory.warmup + plan.memory.requests);
    const retained = after - before;
    return { variant, before, after, retained, perRequest: retained / plan.memory.requests };
  } finally {
    server.kill();
  }
}

/** The runner micro-benchmark, in a child pinned like the servers. */
async function micro(pinning) {
  const child = spawnTracked([here('./micro.mjs'), ...plan.micro.map(String)], pinning, { stdout: 'pipe' });
  let out = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/micro.mjs exited with ${code}`);
  return JSON.parse(out);
}

/**
 * The BullMQ backend (bench/bullmq.mjs), in a child pinned like the servers:
 * its section of the report, and its budget line when judged.
 */
async function bullmq(pinning) {
  const child = spawnTracked([here('./bullmq.mjs'), ...plan.bullmq.map(String)], pinning, { stdout: 'pipe' });
  let out = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/bullmq.mjs exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').at(-1));
  const title = '## BullMQ backend (nestjs-background-tasks/bullmq)';
  if (result.skipped) return { section: `${title}\n\nSkipped: ${result.skipped}.` };
  const [perRound, rounds] = plan.bullmq;
  const dispatchTable = table(
    ['enqueue one job (this process only; Redis is another)', 'CPU µs/job', 'vs raw'],
    [
      ['raw `queue.add()`, same name, data and job options', fixed(result.rawCpuPerJob, 1), ''],
      [
        'dispatch: the JSON check of the arguments, then the bounded `queue.add()`',
        fixed(result.dispatchCpuPerJob, 1),
        signed(result.overhead),
      ],
      [
        'the whole path from `addTask()` (runner included), for information',
        fixed(result.addTaskCpuPerJob, 1),
        signed(result.addTaskOverhead),
      ],
    ],
    ['l', 'r', 'r'],
  );
  const throughputTable = table(
    ['worker processes (concurrency 50 each)', 'jobs/s'],
    [
      ['1', thousands(result.jobsPerSecond.one)],
      ['2', thousands(result.jobsPerSecond.two)],
    ],
    ['l', 'r'],
  );
  const section =
    `${title}\n\nA private redis-server on a Unix socket. Dispatch: batches of 100 taking turns (raw, dispatch, ` +
    `addTask, then the other way round), ${thousands(perRound)} jobs of each per round, ${rounds} round(s), each ` +
    `after a GC; the median over rounds of dispatch ÷ raw (dispatch ` +
    `${signed(result.overheadRange[0])} to ${signed(result.overheadRange[1])} in single rounds); ` +
    `the payload is a small order (ids, five items).\n\n${dispatchTable}\n\n` +
    `End to end: ${thousands(result.endToEnd)} jobs added with addBulk(), timed until the queue is empty. ` +
    `Redis, the workers and the bench share this machine's CPUs, so a second worker process adds little here: ` +
    `the figure is for comparing runs, not a capacity plan.\n\n${throughputTable}`;
  const budget = budgetLine(
    result.overhead <= 10,
    'BullMQ dispatch vs raw queue.add()',
    `${signed(result.overhead)} CPU/job`,
    '≤ 10%',
  );
  return { section, budget };
}

/**
 * Thread tasks (bench/threads.mjs), in a child, not pinned: a thread task
 * needs a CPU besides the event loop's. Its section of the report, and its
 * budget line when judged.
 */
async function threads() {
  const child = spawnTracked([here('./threads.mjs'), ...plan.threads.map(String)], unpinned, { stdout: 'pipe' });
  let out = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/threads.mjs exited with ${code}`);
  const { rounds, latency, dispatch } = JSON.parse(out.trim().split('\n').at(-1));
  const ms = (value) => `${fixed(value, 1)} ms`;
  const latencyTable = table(
    ['10 requests each add', 'GET /ping p50', 'p99', 'max'],
    [
      ['no task (the baseline)', ms(latency.none.p50), ms(latency.none.p99), ms(latency.none.max)],
      ['a 300 ms CPU task, on the event loop', ms(latency.loop.p50), ms(latency.loop.p99), ms(latency.loop.max)],
      ['a 300 ms CPU task, as a thread task', ms(latency.thread.p50), ms(latency.thread.p99), ms(latency.thread.max)],
    ],
    ['l', 'r', 'r', 'r'],
  );
  const dispatchTable = table(
    ['a trivial task, for information', 'CPU µs/task'],
    [
      ['called on the event loop', fixed(dispatch.loop, 1)],
      ['dispatched as a thread task (main and worker thread)', fixed(dispatch.thread, 1)],
    ],
    ['l', 'r'],
  );
  const ratio = latency.thread.p99 / latency.none.p99;
  const section =
    `## Thread tasks (threadTask())\n\nA trivial \`GET /ping\` every 20 ms for 3 s, from another process, while 10 ` +
    `requests sent with the first ping each add a task that burns 300 ms of CPU (or add none, for the baseline); the ` +
    `three variants take turns, each round in a fresh server with the default pool (one thread fewer than the CPUs), ` +
    `not pinned; medians over ${rounds} round(s). The thread tasks' p99 is ${fixed(ratio, 2)}× the baseline's.` +
    `\n\n${latencyTable}\n\nDispatch: ${thousands(dispatch.tasks)} trivial tasks of one \`concurrent\` request, ` +
    `process CPU per task, median of ${rounds} round(s) taking turns.\n\n${dispatchTable}`;
  const budget = budgetLine(
    ratio <= 2,
    'thread tasks: GET /ping p99 while 10 requests add 300 ms CPU tasks, vs no CPU task',
    `${ms(latency.thread.p99)} vs ${ms(latency.none.p99)} (${fixed(ratio, 2)}×)`,
    '≤ 2×',
  );
  return { section, budget };
}

/**
 * The servers run the built package. The bench does not build it itself:
 * `npm run build` empties dist/ first, which would pull it from under anything
 * else running at the time (a test run, say).
 */
function checkBuild() {
  const built = here('../dist/index.js');
  if (!existsSync(built)) throw new Error('dist/ is missing: run `npm run build` first');
  const newest = (dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .reduce((max, entry) => Math.max(max, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs), 0);
  if (newest(here('../lib')) > statSync(built).mtimeMs) {
    throw new Error('dist/ is older than lib/: run `npm run build` first, or the bench measures stale code');
  }
}

/** Which lib/ was measured: the commit, and whether lib/ differs from it. */
function libraryVersion() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: here('..'), encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--', 'lib') !== '';
    return `lib/ at commit ${git('rev-parse', '--short', 'HEAD')}${changed ? ', with uncommitted changes' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function cpuModel() {
  try {
    return `${os.cpus()[0].model}, ${os.availableParallelism()} CPUs`;
  } catch {
    return 'unknown';
  }
}

async function main() {
  checkBuild();
  const cpu = cpuModel(); // before pinning, which hides the other CPUs from availableParallelism()
  const pinning = pinCpus();
  const pinningText = pinning
    ? `load generator (autocannon) on CPU ${pinning.load}, servers and the micro-benchmark on CPU ${pinning.server} (taskset)`
    : 'none (no taskset, or fewer than 2 CPUs)';
  log(`nestjs-background-tasks bench${flags.smoke ? ' (smoke)' : ''}: node ${process.version}, ${cpu}`);
  log(`pinning: ${pinningText}`);
  log(
    `${plan.rounds} round(s); per round and pair: two fresh servers, ${plan.warmup} warm-up requests each, ` +
      `then ${plan.windows} interleaved windows of ${plan.requests} requests each`,
  );

  if (flags.bullmq || flags.threads) {
    log(flags.bullmq ? 'BullMQ backend…' : 'thread tasks…');
    const { section, budget } = flags.bullmq ? await bullmq(pinning) : await threads();
    console.log(`\n${section}\n`);
    if (budget && judge) console.log(budget);
    return { missed: Boolean(judge && budget?.startsWith('MISS')) };
  }

  // ---- pairs, back to back, alternating which goes first; then the FastAPI comparison ----
  // A variant in two pairs (noop) is run for each; its table row uses all its runs.
  const selection = selected();
  const { withFastapi } = selection;
  // Pair 7 needs PostgreSQL: without it, the others run and the report says why it is missing.
  const database = selection.measured.some((pair) => pair.database) ? await withDatabase() : undefined;
  if (database?.skipped) log(`pair 7 skipped: ${database.skipped}`);
  const measured = database?.skipped ? selection.measured.filter((pair) => !pair.database) : selection.measured;
  const databaseNote = database?.skipped && `Pair 7 (transactions) was skipped: ${database.skipped}.`;
  const fastapi = withFastapi ? prepareComparison() : undefined;
  if (fastapi?.skipped) log(`FastAPI comparison skipped: ${fastapi.skipped}`);
  else if (fastapi) log(`FastAPI comparison: ${fastapi.python}, FastAPI ${fastapi.fastapi}, uvicorn ${fastapi.uvicorn}`);
  const logRound = (round, variant, result) =>
    log(
      `round ${round + 1}/${plan.rounds} ${variant.padEnd(14)} ${fixed(result.cpuPerReq, 1).padStart(6)} µs/req ` +
        `${thousands(result.reqPerSec).padStart(7)} req/s  p50 ${fixed(result.p50, 2)} ms  p99 ${fixed(result.p99, 2)} ms  ` +
        `(${result.tasksRun} tasks run)`,
    );
  for (const pair of measured) pair.runs = { [pair.baseline]: [], [pair.subject]: [] };
  for (let round = 0; round < plan.rounds; round++) {
    for (const pair of measured) {
      const results = await measurePair(pair, round, pinning);
      for (const [variant, result] of Object.entries(results)) {
        pair.runs[variant][round] = result;
        logRound(round, variant, result);
      }
    }
    if (fastapi && !fastapi.skipped) {
      try {
        const results = await measureComparison(fastapi, round, pinning);
        for (const variant of comparison.variants) {
          fastapi.runs[variant][round] = results[variant];
          logRound(round, variant, results[variant]);
        }
      } catch (error) {
        // A reference row never fails the run: the report says what went wrong instead.
        fastapi.skipped = `round ${round + 1} failed, so no figures: ${error?.message ?? error}`;
        log(`FastAPI comparison: ${fastapi.skipped}`);
      }
    }
  }
  const comparisonSection =
    fastapi && `## Against FastAPI (reference, no budget)\n\n${comparisonMarkdown(fastapi, comparison, plan)}`;
  if (flags.pairs !== undefined) {
    if (measured.length) console.log(`\n${pairTable(measured, judge)}`);
    if (databaseNote) console.log(`\n${databaseNote}`);
    if (comparisonSection) console.log(`\n${comparisonSection}\n`);
    return { missed: false };
  }
  const variantRuns = {};
  for (const pair of measured)
    for (const [variant, runs] of Object.entries(pair.runs)) (variantRuns[variant] ??= []).push(...runs);
  const summary = summarize(variantRuns);

  // ---- runner throughput and memory ----
  log('runner micro-benchmark…');
  const throughput = await micro(pinning);
  const heaps = [];
  for (const variant of ['module-param', 'module-slow', 'hand-param']) {
    log(`memory: ${plan.memory.requests} requests through ${variant}…`);
    heaps.push(await memory(variant, pinning));
  }

  log('BullMQ backend…');
  const queueBackend = await bullmq(pinning);
  log('thread tasks…');
  const threadTasks = await threads();

  // ---- report ----
  const slow = summary['module-slow'];
  const trivial = summary['module-param'];
  if (!(slow.p50 < 100)) problems.push(`the 100 ms task route has p50 ${fixed(slow.p50, 1)} ms: responses wait for the task`);

  const throughputTable = table(
    ['flush', 'tasks/s', 'µs/task'],
    [
      ['1 trivial sync task', thousands(throughput.oneTask), fixed(1e6 / throughput.oneTask, 2)],
      ['10 trivial sync tasks', thousands(throughput.tenTasks), fixed(1e6 / throughput.tenTasks, 2)],
      ['(harness only: fake request and response, per flush)', thousands(throughput.harness), fixed(1e6 / throughput.harness, 2)],
    ],
    ['l', 'r', 'r'],
  );
  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(2)} MB`;
  const memoryTable = table(
    ['variant', 'requests', 'heap before', 'heap after', 'retained', 'bytes/request'],
    heaps.map((h) => [
      `\`${h.variant}\``,
      thousands(plan.memory.requests),
      mb(h.before),
      mb(h.after),
      mb(h.retained),
      fixed(h.perRequest, 1),
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
  const latencyLine =
    `Pair 4 latency: the 100 ms-task route answers in p50 ${fixed(slow.p50, 2)} ms / p99 ${fixed(slow.p99, 2)} ms, ` +
    `the trivial-task route in p50 ${fixed(trivial.p50, 2)} ms / p99 ${fixed(trivial.p99, 2)} ms: the response does not wait for the task.`;

  const budgetLines = [];
  if (judge) {
    for (const pair of measured.filter((p) => p.budget !== undefined)) {
      const o = overhead(pair);
      budgetLines.push(
        budgetLine(
          o.median <= pair.budget,
          `${pair.label}, ${pair.title} (${pair.subject} vs ${pair.baseline})`,
          `${signed(o.median)} CPU/request`,
          `≤ ${pair.budget}%`,
        ),
      );
    }
    budgetLines.push(
      budgetLine(
        throughput.oneTask >= 250_000,
        'runner throughput, 1-task flushes',
        `${thousands(throughput.oneTask)} tasks/s`,
        '≥ 250,000 tasks/s',
      ),
    );
    if (queueBackend.budget) budgetLines.push(queueBackend.budget);
    budgetLines.push(threadTasks.budget);
    for (const h of heaps.filter((h) => h.variant.startsWith('module-'))) {
      budgetLines.push(
        budgetLine(
          h.retained <= 10 * 2 ** 20,
          `memory after ${thousands(plan.memory.requests)} requests through ${h.variant}`,
          `${mb(h.retained)} retained, ${fixed(h.perRequest, 1)} bytes/request`,
          '≤ 10 MB',
        ),
      );
    }
  }

  const sections = [
    `## Variants (median of ${plan.rounds} round(s), ${thousands(plan.windows * plan.requests)} measured requests per run)\n\n${variantTable(summary, labels)}`,
    `## Pairs (overhead = module ÷ baseline CPU per request − 1, per round, median)\n\n${pairTable(measured, judge)}\n\n${[latencyLine, databaseNote].filter(Boolean).join('\n\n')}`,
    `## Runner throughput (in-process, one pinned CPU, median of ${plan.micro[1]} samples)\n\n${throughputTable}`,
    `## Memory (drain with whenIdle(), then full GC; heapUsed)\n\n${memoryTable}`,
    queueBackend.section,
    threadTasks.section,
    comparisonSection,
  ].filter(Boolean);
  console.log(`\n${sections.join('\n\n')}\n`);
  if (judge) {
    console.log(budgetLines.join('\n'));
    sections.push(`## Budgets\n\n\`\`\`\n${budgetLines.join('\n')}\n\`\`\``);
  } else {
    console.log('Smoke run: every variant ran and every task was counted; timings are not judged.');
  }

  if (!flags.smoke && !custom) {
    const previous = existsSync(here('./RESULTS.md')) ? readFileSync(here('./RESULTS.md'), 'utf8') : undefined;
    const markdown = resultsMarkdown({
      date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
      node: execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim(),
      cpu,
      pinning: pinningText,
      plan:
        `per round and pair, both variants in fresh processes, ${thousands(plan.warmup)} warm-up requests each, then ` +
        `${plan.windows} interleaved windows (A B B A …) of ${thousands(plan.requests)} requests each ` +
        `(autocannon, 10 connections, keep-alive, GET /); server CPU = process.cpuUsage() user + system over the ` +
        `measured requests, read once their tasks have run; the first variant alternates between rounds; ` +
        `${plan.rounds} rounds; medians; pair 7 (transactions, POST /) with ${thousands(transactionPair.warmup)} warm-up ` +
        `requests and windows of ${thousands(transactionPair.requests)}`,
      library: libraryVersion(),
      command: 'npm run bench',
      sections,
      previous,
    });
    writeFileSync(here('./RESULTS.md'), markdown);
    writeFileSync(here('./results.svg'), chartSvg(measured, summary, 'nestjs-background-tasks: CPU per request'));
    log('wrote bench/RESULTS.md and bench/results.svg');
  }

  for (const problem of problems) console.log(`FAIL  ${problem}`);
  return { missed: budgetLines.some((line) => line.startsWith('MISS')) };
}

let exitCode = 0;
try {
  const { missed } = await main();
  if (problems.length) exitCode = 1;
  else if (missed && !flags['no-fail']) exitCode = 1;
} catch (error) {
  console.error(`\nBENCH FAILED: ${error?.stack ?? error}`);
  exitCode = 1;
}
// Exit now, rather than when the event loop empties: no child may outlive the bench.
killChildren();
process.exit(exitCode);
