import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackgroundTasksMonitor, type BackgroundTasksModuleOptions, type BackgroundTaskStats } from '../lib/index.js';
import {
  type FaultKind,
  FaultsAppModule,
  faultOf,
  HANG_TIMEOUT,
  handlerEntered,
  resetFaults,
  state,
} from './fixtures/faults.app.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { stats } from './utils/task-record.js';
import { pool, type Reply, send } from './utils/load.js';
import { flush, type ProcessWatch, watchProcess } from './utils/process-watch.js';
import { deferred, within } from './utils/wait-for.js';

/**
 * Fault and load tests of issue #4: many real HTTP requests at once, tasks
 * that hang, throw and reject, clients that go away; every task counted.
 */

/** Requests in flight at once, from as many kept-alive sockets. */
const CLIENTS = 50;
/** Deadline for the runner to become idle once all replies are in: generous, for a slow shared machine. */
const IDLE_DEADLINE = 20_000;
/** Jest timeout of each test: the requests, the idle deadline, and startup. */
const TEST_TIMEOUT = 60_000;

// Nest's logger override is process-wide, so every app of this file shares one.
const logger = new CapturingLogger();

let app: INestApplication | undefined;
let port: number;
let runner: BackgroundTasksMonitor;
let agent: Agent;
let watch: ProcessWatch;

async function startApp(options: BackgroundTasksModuleOptions): Promise<void> {
  const moduleRef = await Test.createTestingModule({ imports: [FaultsAppModule.forRoot(options)] }).compile();
  app = moduleRef.createNestApplication();
  app.useLogger(logger);
  await app.listen(0, '127.0.0.1');
  port = (app.getHttpServer().address() as AddressInfo).port;
  runner = app.get(BackgroundTasksMonitor);
}

const idle = () =>
  within(() => `the runner to become idle; stats: ${JSON.stringify(runner.stats())}`, runner.whenIdle(), IDLE_DEADLINE);

/** Hook call counts for tasks that were all queued, started, and ended as given. */
function hookCounts({ succeeded = 0, failed = 0, timedOut = 0 }: Partial<BackgroundTaskStats>) {
  const ended = succeeded + failed + timedOut;
  return {
    onTaskQueued: ended,
    onTaskStarted: ended,
    onTaskSucceeded: succeeded,
    onTaskFailed: failed,
    onTaskTimedOut: timedOut,
    onTaskDropped: 0,
    onTaskCancelled: 0,
  };
}

/**
 * Requests `0 … count - 1` whose entries in the fixture's log are not exactly
 * `expected(i)`, in order; plus entries of requests never sent. Lists the
 * first few only, so that a failure stays readable.
 */
function logMismatches(count: number, expected: (i: number) => string[]): { count: number; first: string[] } {
  const byRequest = new Map<number, string[]>();
  for (const [i, entry] of state.log) {
    if (!byRequest.has(i)) byRequest.set(i, []);
    byRequest.get(i)!.push(entry);
  }
  const wrong: string[] = [];
  for (const i of byRequest.keys()) if (!(Number.isInteger(i) && i >= 0 && i < count)) wrong.push(`request ${i} was never sent`);
  for (let i = 0; i < count; i++) {
    const got = byRequest.get(i) ?? [];
    const want = expected(i);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      wrong.push(`request ${i}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
  }
  return { count: wrong.length, first: wrong.slice(0, 10) };
}
const NO_MISMATCH = { count: 0, first: [] };

/** Replies that are not `201 {"i": i}`, with their index. */
const unexpectedReplies = (replies: Reply[], expected: (i: number) => Reply = (i) => created(i)) =>
  replies.flatMap((reply, i) => (JSON.stringify(reply) === JSON.stringify(expected(i)) ? [] : [{ i, reply }]));
const created = (i: number): Reply => ({ status: 201, body: JSON.stringify({ i }) });

/** The process saw no unhandled rejection and no uncaught exception, even a late one. */
async function expectProcessUnharmed(): Promise<void> {
  await flush();
  expect(watch.unhandledRejections).toEqual([]);
  expect(watch.uncaughtExceptions).toEqual([]);
}

beforeEach(() => {
  resetFaults();
  logger.errors.length = 0;
  logger.warnings.length = 0;
  watch = watchProcess();
  agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
});

afterEach(async () => {
  agent.destroy();
  await app?.close();
  app = undefined;
  watch.stop();
});

describe('load', () => {
  const REQUESTS = 5_000;
  const expectedLog = (tokens: string[]) => (i: number) =>
    ['a:start', 'a:end', 'b:start', 'b:end'].map((step) => `${step}:${tokens[i]}`);

  // Without a bound, a request's tasks still run one at a time: at most one task per request is live.
  it.each([
    ['the default options', {}, REQUESTS],
    ['concurrency: 8', { concurrency: 8 }, 8],
  ])(
    'runs both tasks of each of 5,000 concurrent requests exactly once, "a" then "b", with that request\'s arguments (%s)',
    async (_case, options: BackgroundTasksModuleOptions, maxLive: number) => {
      await startApp(options);
      // Each request sends its own token, which its tasks get as an argument.
      const tokens = Array.from({ length: REQUESTS }, () => randomUUID());
      const replies = await pool(REQUESTS, CLIENTS, (i) => send({ agent, port, path: `/pair/${i}`, json: { token: tokens[i] } }));
      expect(unexpectedReplies(replies)).toEqual([]);

      await idle();
      expect(runner.stats()).toEqual(stats({ succeeded: 2 * REQUESTS }));
      // Each request's tasks: once each, one after another ("b" starts after "a" has ended), with its token.
      expect(logMismatches(REQUESTS, expectedLog(tokens))).toEqual(NO_MISMATCH);
      expect(state.maxLive).toBeGreaterThanOrEqual(1);
      expect(state.maxLive).toBeLessThanOrEqual(maxLive);
      expect(state.hooks).toEqual(hookCounts({ succeeded: 2 * REQUESTS }));
      expect(logger.errors).toEqual([]);
      expect(logger.warnings).toEqual([]);
      await expectProcessUnharmed();
    },
    TEST_TIMEOUT,
  );
});

describe('hanging, throwing and rejecting tasks under load', () => {
  const REQUESTS = 1_000;
  const requestsOf = (kind: FaultKind) => Array.from({ length: REQUESTS }, (_, i) => i).filter((i) => faultOf(i) === kind);
  /** What each request's tasks log: the faulty one (if any) ends before the normal one starts. */
  const expectedLog = (i: number): string[] =>
    ({
      hang: ['hang:start', 'hang:aborted', 'normal'],
      throw: ['throw', 'normal'],
      reject: ['reject', 'normal'],
      'reject-non-error': ['reject-non-error', 'normal'],
      none: ['normal'],
    })[faultOf(i)];
  /** The Logger.error message of each faulty task. */
  const expectedError = (i: number): string | undefined => {
    const task = (name: string) => `Background task "${name}" of POST /faulty/${i}`;
    return {
      hang: `${task('hang')} timed out after ${HANG_TIMEOUT} ms.`,
      throw: `${task('throwsSync')} failed: sync boom #${i}`,
      reject: `${task('rejects')} failed: async boom #${i}`,
      'reject-non-error': `${task('rejectsWithString')} failed: plain reason #${i}`,
      none: undefined,
    }[faultOf(i)];
  };
  // The captured line is the message, then the stack (if any) and the context, joined by spaces.
  const LOGGED_MESSAGE = /^Background task "\w+" of POST \/faulty\/\d+ (?:failed: .*? #\d+|timed out after \d+ ms\.)(?= )/;

  it.each([
    // Without a bound, a request's tasks still run one at a time: at most one task per request is live.
    ['unlimited concurrency', {}, REQUESTS],
    // 200 tasks that never settle, 4 slots: only timeouts that free their slot let the other 1,600 tasks run.
    ['concurrency: 4', { concurrency: 4 }, 4],
  ])(
    'times out, logs and counts every faulty task exactly, runs every normal task, and keeps the process up (%s)',
    async (_case, options: BackgroundTasksModuleOptions, maxLive: number) => {
      await startApp(options);
      const replies = await pool(REQUESTS, CLIENTS, (i) => send({ agent, port, path: `/faulty/${i}` }));
      expect(unexpectedReplies(replies)).toEqual([]);

      await idle();
      const hanging = requestsOf('hang').length;
      const failing = requestsOf('throw').length + requestsOf('reject').length + requestsOf('reject-non-error').length;
      expect([hanging, failing]).toEqual([200, 600]); // the split the counts below rely on
      const ended = { succeeded: REQUESTS, failed: failing, timedOut: hanging };
      expect(runner.stats()).toEqual(stats(ended));
      expect(state.hooks).toEqual(hookCounts(ended));
      expect(logMismatches(REQUESTS, expectedLog)).toEqual(NO_MISMATCH);
      expect(state.maxLive).toBeGreaterThanOrEqual(1);
      expect(state.maxLive).toBeLessThanOrEqual(maxLive);

      // Every hanging task's signal was aborted with a TimeoutError.
      expect([...state.hangSignals.keys()].sort((a, b) => a - b)).toEqual(requestsOf('hang'));
      const notTimedOut = [...state.hangSignals].filter(
        ([, signal]) =>
          !(
            signal.aborted &&
            (signal.reason as DOMException).name === 'TimeoutError' &&
            (signal.reason as DOMException).message === `Background task "hang" timed out after ${HANG_TIMEOUT} ms.`
          ),
      );
      expect(notTimedOut).toEqual([]);

      // One Logger.error per faulty task, naming it, its request, and what went wrong.
      const logged = logger.errors.map((line) => LOGGED_MESSAGE.exec(line)?.[0] ?? line).sort();
      const expected = Array.from({ length: REQUESTS }, (_, i) => expectedError(i)).filter((message) => message !== undefined);
      expect(logged).toEqual(expected.sort());
      expect(logger.warnings).toEqual([]);
      await expectProcessUnharmed();
    },
    TEST_TIMEOUT,
  );
});

describe('clients that go away under load', () => {
  const REQUESTS = 500;
  const aborts = (i: number) => i % 2 === 1;

  it(
    'runs the tasks of every handler that completed, whether its client stayed or not, and leaves nothing queued or running',
    async () => {
      await startApp({});
      // Every other client destroys its socket as soon as its handler has started, before any response.
      const started = new Map<number, ReturnType<typeof deferred<void>>>();
      handlerEntered.on('entered', (i: number) => started.get(i)?.resolve());
      const replies = await pool(REQUESTS, CLIENTS, (i) => {
        if (!aborts(i)) return send({ agent, port, path: `/abortable/${i}` });
        const handlerStarted = deferred();
        started.set(i, handlerStarted);
        return send({ agent, port, path: `/abortable/${i}?abort=1`, abortWhen: handlerStarted.promise });
      });
      expect(unexpectedReplies(replies, (i) => (aborts(i) ? { aborted: true } : created(i)))).toEqual([]);

      await idle();
      // Each handler completed (after its client left, for the aborted ones), then both its tasks ran.
      expect(logMismatches(REQUESTS, () => ['handler-completed', 'first task ran', 'second task ran'])).toEqual(NO_MISMATCH);
      expect(runner.stats()).toEqual(stats({ succeeded: 2 * REQUESTS }));
      expect(state.hooks).toEqual(hookCounts({ succeeded: 2 * REQUESTS }));
      expect(logger.errors).toEqual([]);
      expect(logger.warnings).toEqual([]);
      await expectProcessUnharmed();
    },
    TEST_TIMEOUT,
  );
});
