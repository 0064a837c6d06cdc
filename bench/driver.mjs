// Starts variant servers as child processes, loads them with autocannon, and
// makes sure no child outlives the bench.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const FASTAPI_SERVER = fileURLToPath(new URL('./fastapi/serve.py', import.meta.url));

// ---- CPU pinning -------------------------------------------------------------

/** The CPUs this process may run on, from taskset; undefined without taskset. */
function allowedCpus() {
  const out = spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
  if (out.status !== 0) return undefined;
  const list = out.stdout.split(':').pop().trim();
  return list.split(',').flatMap((range) => {
    const [from, to = from] = range.split('-').map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
  });
}

/**
 * Puts the load generator (this process: autocannon runs in it) and the
 * servers on different CPUs, so that they do not steal time from each other
 * and the server's CPU time is its own. Returns where each goes, or undefined.
 */
export function pinCpus() {
  const cpus = allowedCpus();
  if (cpus === undefined || cpus.length < 2) return undefined;
  const pinning = { load: cpus[0], server: cpus[1] };
  // -a: every thread of this process, autocannon's included.
  const out = spawnSync('taskset', ['-a', '-cp', pinning.load, String(process.pid)], { encoding: 'utf8' });
  return out.status === 0 ? pinning : undefined;
}

/**
 * A "pinning" that runs a child on every CPU this process was allowed at its
 * start, for a child that must not be pinned to one, after pinCpus() pinned
 * this process (which its children would inherit). Undefined where taskset is not used.
 */
export function allCpus() {
  const cpus = allowedCpus();
  return cpus === undefined || cpus.length < 2 ? undefined : { server: cpus.join(',') };
}

/** The command line that runs `node args` on the server CPU, if pinned. */
export function nodeCommand(args, pinning) {
  return pinnedCommand(process.execPath, args, pinning);
}

/** The command line that runs `command args` on the server CPU, if pinned (taskset execs it: same pid). */
function pinnedCommand(command, args, pinning) {
  return pinning ? ['taskset', ['-c', pinning.server, command, ...args]] : [command, args];
}

// ---- children -----------------------------------------------------------------

const children = new Set();

/** Kills every child still running: on exit, on a signal, on a crash. */
export function killChildren() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killChildren();
    process.exit(128 + 2);
  });
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Spawns a child that has an IPC channel, and keeps track of it until it exits. */
export function spawnTracked(args, pinning, { stdout = 'inherit' } = {}) {
  const [command, argv] = nodeCommand(args, pinning);
  return track(spawn(command, argv, { stdio: ['ignore', stdout, 'inherit', 'ipc'] }));
}

/** Resolves with the first message from `child` that `accept` takes, or fails on exit or timeout. */
export function nextMessage(child, accept, what, timeout) {
  return new Promise((resolve, reject) => {
    const done = (fn, value) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onExit);
      fn(value);
    };
    const onMessage = (message) => accept(message) && done(resolve, message);
    const onExit = (code, signal) => done(reject, new Error(`${what}: the child exited (${signal ?? code}) before answering`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(reject, new Error(`${what}: no answer within ${timeout} ms`));
    }, timeout);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onExit);
  });
}

/** A variant's server, running in its own process. */
export class Server {
  static async start(variant, { pinning, nodeFlags = [], timeout = 30_000 } = {}) {
    const child = spawnTracked([...nodeFlags, '--expose-gc', SERVER, variant], pinning);
    const ready = await nextMessage(child, (m) => m.ready, `starting ${variant}`, timeout);
    return new Server(variant, child, ready.port);
  }

  #nextId = 0;

  constructor(variant, child, port) {
    this.variant = variant;
    this.child = child;
    this.port = port;
  }

  /** Sends a command (reset, read, heap, close) and resolves with the reply. */
  async command(command, timeout = 60_000) {
    const id = ++this.#nextId;
    const reply = nextMessage(this.child, (m) => m.id === id, `${this.variant}: ${command}`, timeout);
    this.send({ id, command });
    const { error, ...rest } = await reply;
    if (error) throw new Error(`${this.variant}: ${command} failed in the server:\n${error}`);
    return rest;
  }

  /** Closes the app, waits for the process to exit, and returns the final counts. */
  async close() {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    const counts = await this.command('close');
    await exited;
    return counts;
  }

  send(message) {
    this.child.send(message);
  }

  kill() {
    this.child.kill('SIGKILL');
  }
}

// ---- the FastAPI reference server ---------------------------------------------

/**
 * The Python interpreters to try for FastAPI: $BENCH_PYTHON alone if set;
 * else every python3 on the PATH (pyenv's shim comes first on some machines,
 * and has no FastAPI), then Debian's /usr/bin/python3, which apt's
 * python3-fastapi serves.
 */
function pythonCandidates() {
  if (process.env.BENCH_PYTHON) return [process.env.BENCH_PYTHON];
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((dir) => `${dir}/python3`);
  return [...new Set([...onPath, '/usr/bin/python3'])];
}

const PROBE = `
import json, sys
import fastapi, uvicorn
print(json.dumps({"fastapi": fastapi.__version__, "uvicorn": uvicorn.__version__, "file": fastapi.__file__}))
`;

/**
 * The first python3 that can import fastapi and uvicorn: { python, fastapi,
 * uvicorn, debian } (debian: the version of Debian's python3-fastapi package,
 * when that is where fastapi comes from), or { tried } when none can.
 */
export function findFastapi() {
  const tried = [];
  for (const python of pythonCandidates()) {
    const out = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 20_000 });
    if (out.status !== 0) {
      if (!out.error || python === process.env.BENCH_PYTHON) tried.push(python); // missing ones are not worth naming, unless asked for
      continue;
    }
    const found = JSON.parse(out.stdout.trim().split('\n').pop());
    let debian;
    if (found.file.startsWith('/usr/lib/python3/dist-packages/')) {
      const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'python3-fastapi'], { encoding: 'utf8' });
      if (dpkg.status === 0 && dpkg.stdout) debian = dpkg.stdout.trim();
    }
    return { python, fastapi: found.fastapi, uvicorn: found.uvicorn, debian };
  }
  return { tried };
}

/**
 * FastAPI's example served by uvicorn (bench/fastapi/serve.py), driven like a
 * Node variant's server: the same commands, over stdin and stdout instead of
 * an IPC channel. `cwd` is where the example writes its log.txt.
 */
export class PythonServer extends Server {
  static async start(variant, { python, cwd, pinning, timeout = 30_000 }) {
    const [command, argv] = pinnedCommand(python, [FASTAPI_SERVER], pinning);
    const child = track(
      spawn(command, argv, { cwd, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }),
    );
    // Each line is a message, as from a Node child's IPC channel.
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        child.emit('message', JSON.parse(line));
      } catch {
        process.stderr.write(`${variant}: ${line}\n`);
      }
    });
    child.stdin.on('error', () => {}); // it exited: nextMessage() reports that
    const ready = await nextMessage(child, (m) => m.ready, `starting ${variant}`, timeout);
    const server = new PythonServer(variant, child, ready.port);
    server.versions = ready.versions;
    return server;
  }

  send(message) {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }
}

// ---- load ------------------------------------------------------------------------

/** The request of the GraphQL variants (bench/variants.mjs): one mutation, as a JSON POST. */
export const GRAPHQL_REQUEST = {
  method: 'POST',
  path: '/graphql',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: 'mutation { hit }' }),
};

/** The request of the transaction variants (bench/variants.mjs): a POST, as a write is. */
export const TRANSACTION_REQUEST = { method: 'POST', path: '/' };

/** What `load` sends to a variant. */
export const requestOf = (variant) =>
  variant.includes('graphql') ? GRAPHQL_REQUEST : variant.endsWith('-tx') ? TRANSACTION_REQUEST : undefined;

/**
 * Sends exactly `amount` requests (GET / unless `method`, `path`, `headers`
 * and `body` say otherwise) over `connections` keep-alive connections. Returns the response times (ms, fractions included: autocannon's
 * histogram would round them to whole ms) and the time from the first request
 * to the last response.
 */
export async function load(port, amount, { connections = 10, rate, method = 'GET', path = '/', headers, body } = {}) {
  const times = new Float64Array(amount);
  let n = 0;
  // Timed here: autocannon's own duration runs on to its next sampling tick.
  const start = performance.now();
  let last = start;
  const instance = autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    method,
    headers,
    body,
    amount,
    connections,
    overallRate: rate,
    sampleInt: 100,
  });
  instance.on('response', (_client, _status, _bytes, time) => {
    if (n < amount) times[n++] = time;
    last = performance.now();
  });
  const result = await instance;
  const served = result['2xx'];
  if (result.errors || result.timeouts || result.non2xx || served !== amount) {
    throw new Error(
      `load on port ${port}, ${method} ${path}: ${served} of ${amount} requests got a 2xx ` +
        `(errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}; ` +
        `status codes ${JSON.stringify(Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count])))})`,
    );
  }
  return { requests: served, seconds: (last - start) / 1000, times: times.subarray(0, n) };
}

/** p50 and p99 of the response times of several loads. */
export function latency(timeArrays) {
  const all = new Float64Array(timeArrays.reduce((sum, times) => sum + times.length, 0));
  let offset = 0;
  for (const times of timeArrays) {
    all.set(times, offset);
    offset += times.length;
  }
  all.sort();
  const at = (p) => (all.length === 0 ? NaN : all[Math.min(all.length - 1, Math.floor(p * all.length))]);
  return { p50: at(0.5), p99: at(0.99) };
}
