// Proves the package works from CommonJS: `require()` of the ESM build
// (Node >= 20.19 loads ES modules synchronously) through the "exports" map.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');

const DEADLINE_MS = 10_000;

if (!fs.existsSync(path.join(__dirname, '../../dist/index.js'))) {
  console.error('cjs smoke: dist/index.js is missing; run "npm run build" first');
  process.exit(1);
}

// A hung check must fail the run, not stall it.
setTimeout(() => {
  console.error('cjs smoke: timed out after 60 s');
  process.exit(1);
}, 60_000).unref();

async function sameExportsAsImport() {
  const required = require('nestjs-background-tasks');
  const imported = await import('nestjs-background-tasks');
  assert.deepEqual(Object.keys(required).sort(), Object.keys(imported).sort(), 'require() and import() export different names');
  assert.equal(
    required.BackgroundTasksModule,
    imported.BackgroundTasksModule,
    'require() and import() give different module classes',
  );
  for (const name of ['BackgroundTasksModule', 'BackgroundTasks', 'Background']) {
    assert.equal(typeof required[name], 'function', `require() has no ${name}`);
  }
}

// The same consumer that test/package.e2e-spec.ts runs from the packed tarball,
// here run against this repository's build.
async function runsTaskAfterResponse() {
  const consumer = path.join(__dirname, '../fixtures/consumer.cjs');
  const { stdout } = await promisify(execFile)(process.execPath, [consumer], { timeout: DEADLINE_MS });
  const { resolved, status, ran, thread } = JSON.parse(stdout.trim().split('\n').pop());
  assert.equal(resolved, path.join(__dirname, '../../dist/index.js'), 'resolved another copy of the package');
  assert.equal(status, 201, `POST /x answered ${status}`);
  assert.deepEqual(ran, ['cjs task']);
  assert.deepEqual(thread, { result: 42, inWorker: true }, 'the thread task of a CommonJS module did not run in a thread');
}

const checks = [
  ['require() gives the same exports as import()', sameExportsAsImport],
  ['a Nest app built from CommonJS runs a task, and a thread task, after the response', runsTaskAfterResponse],
];

(async () => {
  let passed = 0;
  let failed = 0;
  for (const [name, check] of checks) {
    try {
      await check();
      passed++;
      console.log(`ok - ${name}`);
    } catch (error) {
      failed++;
      console.error(`not ok - ${name}\n${error && error.stack ? error.stack : error}`);
    }
  }
  console.log(`cjs smoke: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
})();
