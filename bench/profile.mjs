// Where does the module's per-request CPU go? Runs each pair's two variants
// under `node --cpu-prof`, keeps only the samples taken during the measured
// requests (the server reports the profile clock at `reset` and `read`), and
// prints self time per request: the module variant's top functions, and the
// functions whose cost grew most against the baseline.
// Usage: node bench/profile.mjs [--requests=N] [--out=DIR] [--top=N] [pair ...]
//   pairs: info, 1, 1b, 2, 2b, 3, 3b, 4, 5, 6, 7 (default 1 2 3; 7 needs DATABASE_URL); 1b compares with the bare app, 2b and 3b with
//   hand-written + no-op interceptor
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { killChildren, load, pinCpus, requestOf, Server } from './driver.mjs';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { requests: { type: 'string', default: '50000' }, out: { type: 'string' }, top: { type: 'string', default: '12' } },
});
const requests = Number(flags.requests);
const top = Number(flags.top);
const out = flags.out ?? mkdtempSync(path.join(os.tmpdir(), 'bench-profiles-'));

const pairs = {
  info: ['bare', 'noop'],
  1: ['noop', 'module-unused'],
  '1b': ['bare', 'module-unused'],
  2: ['hand-param', 'module-param'],
  '2b': ['hand-param+noop', 'module-param'],
  3: ['hand-ctor', 'module-ctor'],
  '3b': ['hand-ctor+noop', 'module-ctor'],
  4: ['hand-slow', 'module-slow'],
  5: ['hand-traced', 'module-traced'],
  6: ['hand-graphql', 'module-graphql'],
  7: ['hand-tx', 'module-tx'],
};

/** Runs a variant under the profiler; returns self µs per request by function, and by origin. */
async function profile(variant, pinning) {
  const file = `${variant}.cpuprofile`;
  const nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${out}`, `--cpu-prof-name=${file}`, '--cpu-prof-interval=100'];
  const server = await Server.start(variant, { pinning, nodeFlags });
  try {
    await load(server.port, 10_000, requestOf(variant));
    const { at: from } = await server.command('reset');
    await load(server.port, requests, requestOf(variant));
    const { at: to, requests: served } = await server.command('read');
    await server.close(); // the profile is written when the process exits
    writeFileSync(path.join(out, `${variant}.window.json`), JSON.stringify({ from, to, served }));
    return selfTimes(JSON.parse(readFileSync(path.join(out, file), 'utf8')), from, to, served);
  } finally {
    server.kill();
  }
}

/**
 * Self time of each function, and of each origin, in µs per request, within
 * [from, to]; and the inclusive time of lib functions (a function counted once
 * per sample however deep it recurses), which shows what their callees cost.
 */
function selfTimes(profile, from, to, served) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const byNode = new Map();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    // A sample's delta is the time since the previous one; attribute it to this sample's node.
    if (t < from || t > to) continue;
    byNode.set(profile.samples[i], (byNode.get(profile.samples[i]) ?? 0) + profile.timeDeltas[i]);
  }
  const functions = new Map();
  const origins = new Map();
  for (const [id, micros] of byNode) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const origin = originOf(url, functionName);
    if (origin === 'idle') continue; // waiting, not CPU
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    const entry = functions.get(key) ?? { key, origin, micros: 0 };
    entry.micros += micros / served;
    functions.set(key, entry);
    origins.set(origin, (origins.get(origin) ?? 0) + micros / served);
  }
  const inclusive = new Map();
  for (const [id, micros] of byNode) {
    const seen = new Set();
    for (let node = id; node !== undefined; node = parents.get(node)) {
      const { functionName, url, lineNumber } = nodes.get(node).callFrame;
      if (originOf(url, functionName) !== 'lib (dist/)') continue;
      const key = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + micros / served);
    }
  }
  return { functions, origins, inclusive, total: [...origins.values()].reduce((a, b) => a + b, 0) };
}

function originOf(url, functionName) {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)') return 'program (native, unattributed)';
  if (url.includes('/dist/') && !url.includes('node_modules')) return 'lib (dist/)';
  if (url.includes('/bench/')) return 'bench app';
  const match = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (match) return match[1];
  if (url.startsWith('node:')) return 'node core';
  return url ? 'other' : 'native/builtins';
}

const shortUrl = (url) => url.replace(/^file:\/\/.*?\/node_modules\//, '').replace(/^file:\/\/.*?\/(dist|bench)\//, '$1/');

const us = (value) => value.toFixed(2).padStart(7);

function report(baselineName, baseline, subjectName, subject) {
  console.log(`\n=== ${subjectName} vs ${baselineName} (self CPU µs per request, measured window only) ===`);
  console.log(`total sampled: ${us(subject.total)} vs ${us(baseline.total)}  (Δ ${us(subject.total - baseline.total)})`);
  console.log('\nby origin                          module  baseline       Δ');
  const origins = new Set([...subject.origins.keys(), ...baseline.origins.keys()]);
  const rows = [...origins].map((o) => [o, subject.origins.get(o) ?? 0, baseline.origins.get(o) ?? 0]);
  for (const [o, s, b] of rows.sort((x, y) => y[1] - y[2] - (x[1] - x[2]))) {
    console.log(`  ${o.padEnd(32)} ${us(s)}  ${us(b)} ${us(s - b)}`);
  }
  console.log(`\nlib (dist/) functions in ${subjectName}:`);
  const lib = [...subject.functions.values()].filter((f) => f.origin === 'lib (dist/)').sort((a, b) => b.micros - a.micros);
  for (const f of lib.slice(0, top)) console.log(`  ${us(f.micros)}  ${f.key}`);
  console.log(`\nlib (dist/) functions in ${subjectName}, inclusive of what they call:`);
  for (const [key, micros] of [...subject.inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${us(micros)}  ${key}`);
  }
  console.log(`\nlargest growth against ${baselineName}, any origin:`);
  const keys = new Set([...subject.functions.keys(), ...baseline.functions.keys()]);
  const deltas = [...keys].map((key) => {
    const s = subject.functions.get(key)?.micros ?? 0;
    const b = baseline.functions.get(key)?.micros ?? 0;
    return { key, s, b, d: s - b };
  });
  for (const f of deltas.sort((a, b) => b.d - a.d).slice(0, top))
    console.log(`  ${us(f.d)}  (${us(f.s)} vs ${us(f.b)})  ${f.key}`);
}

try {
  const pinning = pinCpus();
  console.log(`profiles in ${out}; ${requests} measured requests per variant; pinning ${JSON.stringify(pinning)}`);
  for (const id of positionals.length ? positionals : ['1', '2', '3']) {
    const [baselineName, subjectName] = pairs[id];
    const baseline = await profile(baselineName, pinning);
    const subject = await profile(subjectName, pinning);
    report(baselineName, baseline, subjectName, subject);
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  killChildren();
}
