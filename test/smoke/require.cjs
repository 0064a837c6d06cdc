// Proves the package works from CommonJS: `require()` of the ESM build
// (Node >= 20.19 loads ES modules synchronously) through the "exports" map.
'use strict';

require('reflect-metadata');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Controller, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

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

async function waitFor(what, probe) {
  const deadline = Date.now() + DEADLINE_MS;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function sameExportsAsImport() {
  const required = require('nestjs-background-tasks');
  const imported = await import('nestjs-background-tasks');
  assert.deepEqual(Object.keys(required).sort(), Object.keys(imported).sort(), 'require() and import() export different names');
  assert.equal(required.BackgroundTasksModule, imported.BackgroundTasksModule, 'require() and import() give different module classes');
  for (const name of ['BackgroundTasksModule', 'BackgroundTasks', 'Background']) {
    assert.equal(typeof required[name], 'function', `require() has no ${name}`);
  }
}

async function runsTaskAfterResponse() {
  const { Background, BackgroundTasksModule } = require('nestjs-background-tasks');
  const log = [];

  class AppController {
    x(tasks) {
      tasks.addTask((message) => log.push(message), 'from cjs');
      return { ok: true };
    }
  }
  Background()(AppController.prototype, 'x', 0);
  Reflect.decorate([Post('x')], AppController.prototype, 'x', Object.getOwnPropertyDescriptor(AppController.prototype, 'x'));
  Controller()(AppController);

  class AppModule {}
  Module({ imports: [BackgroundTasksModule], controllers: [AppController] })(AppModule);

  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address();
    const response = await fetch(`http://127.0.0.1:${port}/x`, { method: 'POST' });
    assert.equal(response.status, 201, `POST /x answered ${response.status}`);
    assert.deepEqual(await response.json(), { ok: true });
    await waitFor('the background task', () => log.length > 0);
    assert.deepEqual(log, ['from cjs']);
  } finally {
    await app.close();
  }
}

const checks = [
  ['require() gives the same exports as import()', sameExportsAsImport],
  ['a Nest app built from CommonJS runs a task after the response', runsTaskAfterResponse],
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
