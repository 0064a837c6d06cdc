import { Controller, type INestApplication, Injectable, Module, type OnModuleDestroy, Post, Res } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Background,
  BackgroundTasksMonitor,
  BackgroundTasks,
  BackgroundTasksModule,
  type BackgroundTaskStats,
} from '../lib/index.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { post, postThenLeave } from './utils/http.js';
import { Gates } from './utils/gates.js';
import { deferred, letWrongOutcomeShow, waitFor, within } from './utils/wait-for.js';

const log: string[] = [];
/** What the tasks and the handler below wait on; every test holds them all, and opens them one by one. */
const gates = new Gates();
const GATES = ['a1', 'b1', 'handler', 'h2', 'hang'];
const gate = (name: string) => gates.pass(name);
const release = (name: string) => gates.open(name);

@Controller()
class TasksController implements OnModuleDestroy {
  @Post('a')
  a(@Background() tasks: BackgroundTasks) {
    tasks.addTask(async () => {
      log.push('a1 start');
      await gate('a1');
      log.push('a1 end');
    });
    tasks.addTask((entry: string) => log.push(entry), 'a2');
    tasks.addTask((entry: string) => log.push(entry), 'a3');
  }

  @Post('b')
  b(@Background() tasks: BackgroundTasks) {
    tasks.addTask(async () => {
      log.push('b1 start');
      await gate('b1');
      log.push('b1 end');
    });
  }

  @Post('held')
  async held(@Background() tasks: BackgroundTasks) {
    tasks.addTask((entry: string) => log.push(entry), 'h1');
    log.push('handler start');
    await gate('handler');
    tasks.addTask(async () => {
      log.push('h2 start');
      await gate('h2');
      log.push('h2 end');
    });
  }

  @Post('hang')
  hang(@Background() tasks: BackgroundTasks) {
    tasks.addTask(async function hangingTask() {
      await gate('hang');
      log.push('hang end');
    });
    tasks.addTask(function queuedTask() {
      log.push('queued ran');
    });
  }

  /** Takes the response, and never answers: a client that leaves gets nothing, and Nest writes nothing. */
  @Post('gives-up')
  givesUp(@Background() tasks: BackgroundTasks, @Res() res: ServerResponse) {
    tasks.addTask(function unanswered() {
      log.push('unanswered ran');
    });
    res.once('close', () => log.push('client gone'));
    log.push('gives-up entered');
  }

  // Runs first in close(): marks that shutdown has started.
  onModuleDestroy() {
    log.push('closing');
  }
}

describe('shutdown', () => {
  let app: INestApplication;
  let port: number;
  let logger: CapturingLogger;

  async function start(shutdownTimeout?: number) {
    const moduleRef = await Test.createTestingModule({
      imports: [BackgroundTasksModule.forRoot(shutdownTimeout === undefined ? {} : { shutdownTimeout })],
      controllers: [TasksController],
    }).compile();
    app = moduleRef.createNestApplication();
    logger = new CapturingLogger();
    app.useLogger(logger);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  }

  /** Starts close() and records, in the log, when it resolves. */
  function close() {
    const state = { done: false };
    const closing = app.close().then(() => {
      state.done = true;
      log.push('closed');
    });
    return Object.assign(state, { closing });
  }

  beforeEach(() => {
    log.length = 0;
    for (const name of GATES) gates.hold(name);
  });

  afterEach(async () => {
    gates.clear();
    await app?.close();
  });

  it('close() waits for a running task, the tasks queued behind it, and the tasks of other requests', async () => {
    await start(60_000);
    expect((await post(port, '/a')).status).toBe(201);
    expect((await post(port, '/b')).status).toBe(201);
    await waitFor('both slow tasks to start', () => log.includes('a1 start') && log.includes('b1 start'));

    const closing = close();
    await waitFor('close() to start', () => log.includes('closing'));
    await letWrongOutcomeShow();
    expect(closing.done).toBe(false);

    release('a1');
    await waitFor('the queued tasks of /a', () => log.includes('a3'));
    await letWrongOutcomeShow();
    expect(closing.done).toBe(false);

    release('b1');
    await within('close() to resolve once the tasks have run', closing.closing);
    expect(log.slice(log.indexOf('closing'))).toEqual(['closing', 'a1 end', 'a2', 'a3', 'b1 end', 'closed']);
    expect(logger.warnings).toEqual([]);
  });

  it('close() runs the tasks of a request still in flight when it started', async () => {
    await start(60_000);
    const response = post(port, '/held');
    await waitFor('the handler to start', () => log.includes('handler start'));

    const closing = close();
    // The server has stopped listening: close() is past its first wait.
    await waitFor('the server to stop listening', () => !app.getHttpServer().listening);
    release('handler');
    expect((await within('the response to /held', response)).status).toBe(201);
    await waitFor('the in-flight request’s slow task', () => log.includes('h2 start'));
    await letWrongOutcomeShow();
    expect(closing.done).toBe(false);

    release('h2');
    await within('close() to resolve once the in-flight request’s tasks have run', closing.closing);
    expect(log).toEqual(['handler start', 'closing', 'h1', 'h2 start', 'h2 end', 'closed']);
  });

  it('close() gives up at shutdownTimeout and names the running and queued tasks in a warning', async () => {
    await start(200);
    expect((await post(port, '/hang')).status).toBe(201);

    // Resolves although hangingTask is held.
    await within('close() to give up at shutdownTimeout', close().closing);
    expect(log).toEqual(['closing', 'closed']);
    expect(logger.warnings).toHaveLength(1);
    const [warning] = logger.warnings;
    expect(warning).toMatch(/^Shutdown timeout of 200 ms expired.* BackgroundTasks$/);
    expect(warning).toContain('"hangingTask" (running, POST /hang)');
    expect(warning).toContain('"queuedTask" (queued, POST /hang)');

    // The running task may still finish; the queued one was dropped.
    release('hang');
    await waitFor('the hanging task to end', () => log.includes('hang end'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['closing', 'closed', 'hang end']);
  });

  it('close() drops, with the warning, the tasks of a @Res() handler that never answered a client that left', async () => {
    await start(200);
    await postThenLeave(
      port,
      '/gives-up',
      waitFor('the handler', () => log.includes('gives-up entered')),
    );
    await waitFor('the server to see the client go', () => log.includes('client gone'));
    // No answer will come to decide the outcome: the task waits.
    await letWrongOutcomeShow();
    expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ queued: 1, dropped: 0 });

    await within('close() to give up at shutdownTimeout', close().closing);
    expect(log).toEqual(['gives-up entered', 'client gone', 'closing', 'closed']);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('"unanswered" (queued, POST /gives-up)');
    expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ queued: 0, dropped: 1 });
  });

  it('close() does not warn when every task has finished', async () => {
    await start();
    expect((await post(port, '/b')).status).toBe(201);
    release('b1');
    await waitFor('the task of /b', () => log.includes('b1 end'));
    await within('close() to resolve', close().closing);
    expect(logger.warnings).toEqual([]);
  });
});

describe('shutdown signals under enableShutdownHooks() (child process)', () => {
  const fixture = join(import.meta.dirname, 'fixtures/shutdown-app.mjs');
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    if (!existsSync(join(import.meta.dirname, '../dist/index.js'))) {
      throw new Error('dist/index.js is missing: run "npm run build" first (npm test does)');
    }
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bg-tasks-shutdown-'));
  });

  afterEach(async () => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts a fixture app (shutdown-app.mjs unless told); resolves once it listens. */
  async function startApp(env: Record<string, string> = {}, script = fixture) {
    const taskLog = join(dir, 'tasks.log');
    const proc = spawn(process.execPath, [script], {
      env: { ...process.env, NO_COLOR: '1', ...env, TASK_LOG: taskLog },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void exit.then((result) => (exited = result));
    const port = await waitFor(
      'the app to print its port',
      () => {
        if (exited) throw new Error(`the app exited early (${JSON.stringify(exited)}):\n${output}`);
        const match = /\{"port":(\d+)\}/.exec(output);
        return match ? Number(match[1]) : undefined;
      },
      15_000,
    );
    return {
      port,
      output: () => output,
      readLog: async () => (existsSync(taskLog) ? (await readFile(taskLog, 'utf8')).split('\n').filter(Boolean) : []),
      /** Resolves with how the process ended, or fails after `timeout` ms. */
      exited: (timeout: number) => waitFor(`the app to exit; output:\n${output}`, () => exited, timeout),
    };
  }

  it('SIGTERM waits for running and queued tasks, then the process dies of SIGTERM', async () => {
    const app = await startApp();
    const responses = await Promise.all([post(app.port, '/work?name=a'), post(app.port, '/work?name=b')]);
    expect(responses.map((r) => r.status)).toEqual([201, 201]);
    child!.kill('SIGTERM');

    expect(await app.exited(15_000)).toEqual({ code: null, signal: 'SIGTERM' });
    const lines = await app.readLog();
    expect(lines).toHaveLength(6);
    expect(lines.filter((line) => line.startsWith('a '))).toEqual(['a 1', 'a 2', 'a 3']);
    expect(lines.filter((line) => line.startsWith('b '))).toEqual(['b 1', 'b 2', 'b 3']);
    expect(app.output()).not.toContain('Shutdown timeout');
  }, 45_000);

  it('SIGTERM gives up at shutdownTimeout, warning about the unfinished tasks', async () => {
    const app = await startApp({ SHUTDOWN_TIMEOUT: '200' });
    expect((await post(app.port, '/hang')).status).toBe(201);
    child!.kill('SIGTERM');

    expect(await app.exited(15_000)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(app.output()).toMatch(/WARN.*\[BackgroundTasks\] Shutdown timeout of 200 ms expired/);
    expect(app.output()).toContain('"hangingTask" (running, POST /hang)');
    expect(app.output()).toContain('"queuedTask" (queued, POST /hang)');
    expect(await app.readLog()).toEqual([]);
  }, 45_000);

  describe('with concurrency: 2 (shutdown-concurrency-app.mjs)', () => {
    const concurrencyFixture = join(import.meta.dirname, 'fixtures/shutdown-concurrency-app.mjs');
    /** Added to shutdownTimeout to bound the exit: Nest's teardown, on a loaded machine. */
    const exitMargin = 10_000;

    /** Polls the app's stats until they have `running` and `queued`; returns them. */
    function waitForStats(port: number, running: number, queued: number): Promise<BackgroundTaskStats> {
      return waitFor(`${running} running and ${queued} queued tasks`, async () => {
        const stats = JSON.parse((await post(port, '/stats')).body) as BackgroundTaskStats;
        return stats.running === running && stats.queued === queued && stats;
      });
    }

    it('SIGTERM lets every accepted task and the request in flight finish, then the process dies of SIGTERM', async () => {
      const shutdownTimeout = 8_000;
      const app = await startApp({ SHUTDOWN_TIMEOUT: String(shutdownTimeout) }, concurrencyFixture);
      const responses = await Promise.all(['a', 'b', 'c'].map((name) => post(app.port, `/work?name=${name}`)));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
      const held = post(app.port, '/held');
      // "a 1" and "b 1" hold both slots (until shutdown begins); "c 1" waits for a slot; the
      // other tasks of /work wait behind their request's first; "held 1" waits for its response.
      expect(await waitForStats(app.port, 2, 8)).toEqual({
        queued: 8,
        running: 2,
        overdue: 0,
        succeeded: 0,
        failed: 0,
        timedOut: 0,
        dropped: 0,
        cancelled: 0,
      });
      child!.kill('SIGTERM');

      // The handler goes on once the server has stopped listening, adds "held 2", and its response still gets out.
      expect(await within('the response to /held', held, shutdownTimeout + exitMargin)).toEqual({
        status: 201,
        body: '{"queued":2}',
      });
      expect(await app.exited(shutdownTimeout + exitMargin)).toEqual({ code: null, signal: 'SIGTERM' });
      const lines = await app.readLog();
      // Exactly one line per task: none was dropped, failed or cancelled (the hooks would add lines).
      expect(lines).toHaveLength(11);
      const perRequest = {
        a: ['a 1', 'a 2', 'a 3'],
        b: ['b 1', 'b 2', 'b 3'],
        c: ['c 1', 'c 2', 'c 3'],
        held: ['held 1', 'held 2'],
      };
      for (const [name, labels] of Object.entries(perRequest)) {
        expect(lines.filter((line) => line.startsWith(`${name} `))).toEqual(labels);
      }
      expect(app.output()).not.toContain('Shutdown timeout');
    }, 45_000);

    it('SIGTERM aborts a task that overruns shutdownTimeout, drops the task queued behind it, and the process still exits', async () => {
      const shutdownTimeout = 300;
      const app = await startApp({ SHUTDOWN_TIMEOUT: String(shutdownTimeout) }, concurrencyFixture);
      expect((await post(app.port, '/overrun')).status).toBe(201);
      // "overrunning" waits for its signal; "taskBehind" waits for it to end.
      await waitForStats(app.port, 1, 1);
      child!.kill('SIGTERM');

      expect(await app.exited(shutdownTimeout + exitMargin)).toEqual({ code: null, signal: 'SIGTERM' });
      // The running task saw an AbortError; the queued one never ran and was reported dropped.
      expect(await app.readLog()).toEqual(['aborted overrunning AbortError', 'dropped taskBehind shutdown']);
      const warnings = app
        .output()
        .split('\n')
        .filter((line) => line.includes('Shutdown timeout'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/WARN.*\[BackgroundTasks\] Shutdown timeout of 300 ms expired;/);
      expect(warnings[0]).toContain(
        'queued ones are dropped: "overrunning" (running, POST /overrun), "taskBehind" (queued, POST /overrun)',
      );
    }, 45_000);
  });
});

describe('Shutdown order: a provider closing what tasks use', () => {
  /** Stands for a database client that a module closes in onModuleDestroy. */
  @Injectable()
  class Db implements OnModuleDestroy {
    open = true;
    constructor(private readonly runner: BackgroundTasksMonitor) {}
    async onModuleDestroy() {
      destroying.resolve();
      // Nest runs the runner's hooks after this module's: wait for the tasks first.
      await this.runner.whenIdle();
      this.open = false;
    }
  }

  @Module({ providers: [Db], exports: [Db] })
  class DbModule {}

  const held = deferred();
  const destroying = deferred();
  const seen: boolean[] = [];

  @Controller()
  class DbController {
    constructor(private readonly db: Db) {}

    @Post('db')
    write(@Background() tasks: BackgroundTasks) {
      tasks.addTask(async () => {
        await held.promise;
        seen.push(this.db.open);
      });
    }
  }

  it('lets onModuleDestroy wait for the tasks with BackgroundTasksMonitor.whenIdle()', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BackgroundTasksModule, DbModule],
      controllers: [DbController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    expect((await post((app.getHttpServer().address() as AddressInfo).port, '/db')).status).toBe(201);

    const closed = app.close();
    // The task is still running when the resource's module is destroyed.
    await within('onModuleDestroy to start', destroying.promise);
    held.resolve();
    await within('close() to resolve', closed);
    expect(seen).toEqual([true]);
    expect(moduleRef.get(Db).open).toBe(false);
  });
});
