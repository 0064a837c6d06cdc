import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import request from 'supertest';
import { BackgroundTasksMonitor } from '../lib/index.js';
import {
  BannedClientGuard,
  contextReads,
  ForgotTheModuleController,
  gates,
  HeldController,
  JobsController,
  jobs,
  journal,
  LoginController,
  RequestContextModule,
  resetExecution,
  WorkController,
} from './fixtures/execution.app.js';
import { type CreateHttpAdapter, HTTP_ADAPTERS, listenOn } from './utils/adapters.js';
import { postThenLeave } from './utils/http.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { expectStats, idle, resetTaskRecord, stats, taskRecord, tasksModule } from './utils/task-record.js';
import { waitFor } from './utils/wait-for.js';

// Nest's logger override is process-wide, so every app of this file shares one.
const logger = new CapturingLogger();

/** POSTs, then goes away once the handler side opens the gate `entered`. */
function leaveDuring(server: Server, path: string, entered: string, headers: Record<string, string> = {}) {
  return postThenLeave((server.address() as AddressInfo).port, path, gates.wait(entered), headers);
}

/**
 * POSTs to the paths pipelined on one connection: the server handles each
 * request at once, and answers them in order, so a later response waits
 * behind the earlier ones before it can be written.
 */
function pipelined(server: Server, paths: string[]) {
  const { port } = server.address() as AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined); // destroyed on purpose
  socket.write(paths.map((path) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`).join(''));
  return {
    /** The status codes of the responses received so far, in order (a body ends where the next status line starts). */
    statuses: () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1])),
    close: () => socket.destroy(),
  };
}

/**
 * A fresh app on the adapter for each test of the calling describe, listening
 * on 127.0.0.1, so that stats() starts at zero. Closing it first opens every
 * gate: a failed test must not leave close() waiting for a held task.
 */
function freshApp(createAdapter: CreateHttpAdapter, metadata: () => ModuleMetadata) {
  const handle = {
    app: undefined as unknown as INestApplication,
    get server(): Server {
      return handle.app.getHttpServer();
    },
    get runner(): BackgroundTasksMonitor {
      return handle.app.get(BackgroundTasksMonitor);
    },
  };
  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule(metadata()).compile();
    handle.app = await listenOn(moduleRef, createAdapter, { logger });
  });
  afterEach(async () => {
    gates.openAll();
    await handle.app?.close();
  });
  return handle;
}

// Every test starts from empty records; the hooks above write into them.
beforeEach(() => {
  resetExecution();
  resetTaskRecord();
  logger.errors.length = 0;
  logger.warnings.length = 0;
});

// Groups are numbered by the rule of docs/semantics.md they test, if any.
describe.each(HTTP_ADAPTERS)('Background task execution over %s', (adapter, createAdapter) => {
  describe('4. always: tasks that run even when the request fails (the audit log of a failed login)', () => {
    const handle = freshApp(createAdapter, () => ({
      imports: [tasksModule()],
      controllers: [LoginController],
      providers: [{ provide: APP_GUARD, useClass: BannedClientGuard }],
    }));

    it.each([
      ['a route guard denies', '/login/wrong-password', {}, 403, 'route-guard'],
      ['the handler throws', '/login/throws', {}, 500, 'handler-throws'],
      ['the handler returns with a 4xx status', '/login/locked', {}, 423, 'handler-answers-423'],
      ['a REQUEST-scoped global APP_GUARD denies', '/login/ok', { 'x-banned': 'yes' }, 403, 'global-guard'],
    ])(
      'when %s, runs the always task once and drops the plain one with reason request-failed',
      async (_case, path, headers: Record<string, string>, status, attempt) => {
        await request(handle.server).post(path).set(headers).expect(status);
        await idle(handle.runner);

        expect(journal).toEqual([`audit:${attempt}`]);
        expect(taskRecord.dropped).toEqual([
          { name: 'sendLoginAlert', args: [attempt], transport: 'http', method: 'POST', path, reason: 'request-failed' },
        ]);
        expectStats(handle.runner, { succeeded: 1, dropped: 1 });
      },
    );

    it('runs both tasks, in order, when the request succeeds', async () => {
      await request(handle.server).post('/login/ok').expect(201, { ok: true });
      await idle(handle.runner);

      expect(journal).toEqual(['audit:ok', 'alert:ok']);
      expect(taskRecord.dropped).toEqual([]);
      expectStats(handle.runner, { succeeded: 2 });
    });
  });

  describe("mode 'inline': tasks have run when the response arrives", () => {
    const handle = freshApp(createAdapter, () => ({
      imports: [tasksModule({ mode: 'inline' })],
      controllers: [LoginController, WorkController],
    }));

    it.each([
      ['an async and a sync task', '/login/ok', ['audit:ok', 'alert:ok']],
      ['two async tasks, one after the other', '/work/steps/a', ['step:a:1', 'step:a:2']],
    ])('has run the tasks of a successful request when the response arrives: %s', async (_case, path, expected) => {
      await request(handle.server).post(path).expect(201);

      expect(journal).toEqual(expected);
      expectStats(handle.runner, { succeeded: 2 });
    });

    it.each([
      ['a handler that throws', '/login/throws', 500, 'handler-throws'],
      ['a handler that returns with a 4xx status, as in the default mode', '/login/locked', 423, 'handler-answers-423'],
    ])(
      'has run the (async) always task of %s, and dropped the other, when the error arrives',
      async (_case, path, status, attempt) => {
        await request(handle.server).post(path).expect(status);

        expect(journal).toEqual([`audit:${attempt}`]);
        expect(taskRecord.dropped).toEqual([
          { name: 'sendLoginAlert', args: [attempt], transport: 'http', method: 'POST', path, reason: 'request-failed' },
        ]);
        expectStats(handle.runner, { succeeded: 1, dropped: 1 });
      },
    );
  });

  describe("mode 'disabled'", () => {
    const handle = freshApp(createAdapter, () => ({
      imports: [tasksModule({ mode: 'disabled' })],
      controllers: [LoginController],
    }));

    it('answers every request, runs no task, and reports each task as dropped with reason disabled', async () => {
      await request(handle.server).post('/login/ok').expect(201, { ok: true });
      // Even the always task of a failing request is dropped as disabled.
      await request(handle.server).post('/login/throws').expect(500);
      await idle(handle.runner);

      expect(journal).toEqual([]);
      expect(taskRecord.dropped.map(({ name, path, reason }) => ({ name, path, reason }))).toEqual([
        { name: 'writeAuditLog', path: '/login/ok', reason: 'disabled' },
        { name: 'sendLoginAlert', path: '/login/ok', reason: 'disabled' },
        { name: 'writeAuditLog', path: '/login/throws', reason: 'disabled' },
        { name: 'sendLoginAlert', path: '/login/throws', reason: 'disabled' },
      ]);
      expectStats(handle.runner, { dropped: 4 });
    });
  });

  describe('9. whenIdle(), and every task accounted for', () => {
    const handle = freshApp(createAdapter, () => ({ imports: [tasksModule()], controllers: [LoginController, WorkController] }));

    it('resolves once every task of every request has ended, with exact stats', async () => {
      const ids = ['a', 'b', 'c', 'd', 'e'];
      await Promise.all([
        request(handle.server).post('/work/gated').expect(201),
        ...ids.map((id) => request(handle.server).post(`/work/steps/${id}`).expect(201)),
        request(handle.server).post('/work/digest').expect(201),
        request(handle.server).post('/work/failing').expect(201),
        request(handle.server).post('/login/throws').expect(500),
      ]);

      let isIdle = false;
      void handle.runner.whenIdle().then(() => (isIdle = true));
      await waitFor('the gated task to start', () => journal.includes('gated:start'));
      // A task is running: whenIdle() must not have resolved.
      expect(isIdle).toBe(false);
      gates.open('gated');
      await waitFor('whenIdle() to resolve', () => isIdle);

      expect([...journal].sort()).toEqual(
        [
          'gated:start',
          'gated:end',
          ...ids.flatMap((id) => [`step:${id}:1`, `step:${id}:2`]),
          'digest:second',
          'audit:handler-throws',
        ].sort(),
      );
      // gated + 10 steps + digest + audit; failingJob; the alert of the failed login; the replaced digest.
      expectStats(handle.runner, { succeeded: 13, failed: 1, dropped: 1, cancelled: 1 });
      expect(logger.errors.filter((line) => line.includes('Background task'))).toEqual([
        expect.stringContaining('Background task "failingJob" of POST /work/failing failed: smtp is down'),
      ]);
    });
  });

  describe('10. async context: an AsyncLocalStorage store set by a middleware', () => {
    const handle = freshApp(createAdapter, () => ({ imports: [tasksModule(), RequestContextModule] }));

    it('is the store of their own request in tasks added by a guard, a service and the handler, 50 requests at once', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `request-${i}`);
      await Promise.all(
        ids.map((id) => request(handle.server).get('/context').set('x-request-id', id).expect(200, { requestId: id })),
      );
      // Every response is in: what the tasks read from here on, they read after their response.
      gates.open('context');
      await idle(handle.runner);

      expect(contextReads).toHaveLength(ids.length * 3);
      const wrong = contextReads.filter(({ expected, atStart, afterAwait }) => atStart !== expected || afterAwait !== expected);
      expect(wrong).toEqual([]);
      for (const id of ids) {
        expect(contextReads.filter(({ expected }) => expected === id).map(({ point }) => point)).toEqual([
          'guard',
          'service',
          'handler',
        ]);
      }
      expectStats(handle.runner, { succeeded: ids.length * 3 });
    });

    /** Leaves while the slow guard holds the request; once the server has seen it, lets the guard decide. */
    async function leaveDuringSlowGuard(requestId: string, headers: Record<string, string> = {}): Promise<void> {
      gates.open('context');
      await leaveDuring(handle.server, '/context/leaves', 'slow-guard:entered', { 'x-request-id': requestId, ...headers });
      await waitFor('the server to see the client go', () => journal.includes('slow-guard:response-closed'));
      gates.open('slow-guard');
      await idle(handle.runner);
    }

    it('is the store of its own request in the tasks of a client that left while a guard was running, which run once it lets the request through', async () => {
      await leaveDuringSlowGuard('gone-1');

      expect(contextReads).toEqual([{ expected: 'gone-1', point: 'slow-guard', atStart: 'gone-1', afterAwait: 'gone-1' }]);
      // The answer Nest writes to the closed connection decides: the handler's 201.
      expect(journal).toEqual(['slow-guard:response-closed', 'leaves:handler', 'slow-guard:plain']);
      expect(taskRecord.dropped).toEqual([]);
      expectStats(handle.runner, { succeeded: 2 });
    });

    it('runs only the always task of a client that left while a guard was running, which then denies the request', async () => {
      await leaveDuringSlowGuard('gone-2', { 'x-deny': '1' });

      expect(contextReads).toEqual([{ expected: 'gone-2', point: 'slow-guard', atStart: 'gone-2', afterAwait: 'gone-2' }]);
      // The guard's 403, written to the closed connection, decides.
      expect(journal).toEqual(['slow-guard:response-closed']);
      expect(taskRecord.dropped.map(({ args, reason }) => ({ args, reason }))).toEqual([
        { args: ['slow-guard:plain'], reason: 'request-failed' },
      ]);
      expectStats(handle.runner, { succeeded: 1, dropped: 1 });
    });
  });

  describe('9. concurrency over HTTP', () => {
    const handle = freshApp(createAdapter, () => ({ imports: [tasksModule({ concurrency: 2 })], controllers: [JobsController] }));

    it('never runs more than 2 tasks at once, and runs the tasks of all 6 requests', async () => {
      const ids = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6'];
      await Promise.all(ids.map((id) => request(handle.server).post(`/jobs/${id}`).expect(201, { id })));

      await waitFor('two jobs to start', () => jobs.started.length === 2);
      expect(handle.runner.stats()).toEqual(stats({ queued: 4, running: 2 }));
      // Ends the jobs one at a time: each freed slot goes to exactly one waiting job.
      for (let ended = 1; ended <= ids.length; ended++) {
        gates.open(jobs.started[ended - 1]);
        await waitFor(
          `job #${ended} to end and the next to start`,
          () => jobs.finished.length === ended && jobs.started.length === Math.min(ids.length, ended + 2),
        );
      }
      await idle(handle.runner);

      expect(jobs.maxActive).toBe(2);
      expect([...jobs.finished].sort()).toEqual(ids);
      expectStats(handle.runner, { succeeded: 6 });
    });
  });

  describe("9. maxQueued with overflow 'reject' over HTTP", () => {
    const handle = freshApp(createAdapter, () => ({
      imports: [tasksModule({ concurrency: 1, maxQueued: 2, overflow: 'reject' })],
      controllers: [JobsController],
    }));

    it('answers 503 with the exception message when maxQueued tasks are already waiting, and still runs the tasks already queued', async () => {
      await request(handle.server).post('/jobs/running').expect(201);
      await waitFor('the first job to take the only slot', () => jobs.started.length === 1);
      await request(handle.server).post('/jobs/queued-1').expect(201);
      await request(handle.server).post('/jobs/queued-2').expect(201);
      expect(handle.runner.stats()).toEqual(stats({ queued: 2, running: 1 }));

      const res = await request(handle.server).post('/jobs/rejected').expect(503);
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Background task "slowJob" was not accepted: maxQueued (2) tasks are already waiting.',
      });
      // The rejected task was never accepted.
      expect(handle.runner.stats()).toEqual(stats({ queued: 2, running: 1 }));

      for (const id of ['running', 'queued-1', 'queued-2']) gates.open(id);
      await idle(handle.runner);
      expect([...jobs.finished].sort()).toEqual(['queued-1', 'queued-2', 'running']);
      expectStats(handle.runner, { succeeded: 3 });

      // With room in the queue again, the next request is accepted.
      gates.open('later');
      await request(handle.server).post('/jobs/later').expect(201);
      await idle(handle.runner);
      expect(jobs.started).not.toContain('rejected');
      expect(jobs.finished).toContain('later');
      expectStats(handle.runner, { succeeded: 4 });
    });
  });

  describe('5. a client that goes away while the handler runs', () => {
    const handle = freshApp(createAdapter, () => ({ imports: [tasksModule()], controllers: [HeldController] }));

    it('still runs the tasks once the handler succeeds, and leaves nothing queued or running', async () => {
      await leaveDuring(handle.server, '/held', 'handler-entered');
      await waitFor('the server to see the client go', () => journal.length === 1);
      // The tasks wait for the handler's outcome.
      expect(handle.runner.stats()).toEqual(stats({ queued: 2 }));

      gates.open('handler');
      await waitFor('both tasks', () => journal.length === 4);

      expect(journal).toEqual(['held:response-closed:finished=false', 'held:handler-done', 'held:plain', 'held:always']);
      expect(taskRecord.dropped).toEqual([]);
      expectStats(handle.runner, { succeeded: 2 });
    });
  });

  describe('@Background() without BackgroundTasksModule', () => {
    const handle = freshApp(createAdapter, () => ({ controllers: [ForgotTheModuleController] }));

    it('fails the request with a 500 and logs that BackgroundTasksModule must be imported', async () => {
      await request(handle.server).post('/forgot-the-module').expect(500, { statusCode: 500, message: 'Internal server error' });

      const line = await waitFor('the error to be logged', () => logger.errors.find((entry) => entry.includes('@Background()')));
      expect(line).toContain(
        '@Background() found no BackgroundTasks for this request: import BackgroundTasksModule in the root module.',
      );
      expect(journal).toEqual([]);
    });
  });

  describe('1. pipelined requests: a response that waits behind an earlier one on the same connection', () => {
    const handle = freshApp(createAdapter, () => ({
      imports: [tasksModule()],
      controllers: [HeldController, LoginController],
    }));

    /** Sends /held and then `path` on one connection; returns once both were answered and every task ended. */
    async function afterHeld(path: string): Promise<number[]> {
      const connection = pipelined(handle.server, ['/held', path]);
      try {
        // Both handled: /held's handler holds the connection, the guard of the second has added its tasks.
        await waitFor('the tasks of both requests', () => handle.runner.stats().queued === 4);
        gates.open('handler');
        await waitFor('both responses', () => connection.statuses().length === 2);
        await idle(handle.runner);
        return connection.statuses();
      } finally {
        connection.close();
      }
    }
    const heldTasks = ['held:handler-done', 'held:response-closed:finished=true', 'held:plain', 'held:always'];

    it('runs the always task of a route guard that denies the second request, and drops the plain one', async () => {
      expect(await afterHeld('/login/wrong-password')).toEqual([201, 403]);

      // The two requests' tasks run side by side: compare without their order.
      expect([...journal].sort()).toEqual([...heldTasks, 'audit:route-guard'].sort());
      expect(taskRecord.dropped).toEqual([
        {
          name: 'sendLoginAlert',
          args: ['route-guard'],
          transport: 'http',
          method: 'POST',
          path: '/login/wrong-password',
          reason: 'request-failed',
        },
      ]);
      // held:plain, held:always and the audit; the alert.
      expectStats(handle.runner, { succeeded: 3, dropped: 1 });
    });

    it('runs both tasks of a route guard that lets the second request through, whose handler adds none', async () => {
      expect(await afterHeld('/login/right-password')).toEqual([201, 201]);

      expect([...journal].sort()).toEqual([...heldTasks, 'audit:route-guard-allowed', 'alert:route-guard-allowed'].sort());
      expect(taskRecord.dropped).toEqual([]);
      expectStats(handle.runner, { succeeded: 4 });
    });
  });
});
