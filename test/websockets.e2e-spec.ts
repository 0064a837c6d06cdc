import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { type BackgroundTaskDropReason, BackgroundTasksMonitor } from '../lib/index.js';
import {
  gates,
  InjectingGateway,
  journal,
  type Note,
  NotesGateway,
  ReminderService,
  RemindersGateway,
  resetWebSockets,
  tasksByMessage,
} from './fixtures/websockets.app.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { count as countIn, expectInOrder as expectInOrderIn } from './utils/journal.js';
import {
  expectStats,
  RELEASE_DEADLINE,
  released,
  resetTaskRecord,
  type Seen,
  SHORT_SHUTDOWN_TIMEOUT,
  taskRecord,
  tasksModule,
} from './utils/task-record.js';
import { flush, watchProcess } from './utils/process-watch.js';
import { letWrongOutcomeShow, waitFor, within } from './utils/wait-for.js';

// Nest's logger override is process-wide, so every app of this file shares one.
const logger = new CapturingLogger();

/** The error the design gives for BackgroundTasks injected where there is no message to scope it to. */
const INJECTION_ERROR =
  'BackgroundTasks cannot be injected here: Nest creates request-scoped providers once per WebSocket connection, ' +
  'not per message. Take @Background() as a parameter of the @SubscribeMessage() handler instead.';

const count = (entry: string) => countIn(journal, entry);
const expectInOrder = (entries: string[]) => expectInOrderIn(journal, entries);

const ws = { transport: 'ws', method: 'WS', path: 'notes.add' } as const;
const deliverEvent = (id: string): Seen => ({ name: 'deliver', args: [id], ...ws });
const auditEvent = (id: string): Seen => ({ name: 'audit', args: [id], ...ws });
const droppedAs = (reason: BackgroundTaskDropReason, event: Seen): Seen => ({ ...event, reason });

/** What the client gets for a message: the handler's reply, or what Nest's exception filter sends. */
const added = (id: string) => ({ event: 'notes.added', data: `ack:${id}` });
const failed = (message: Note) => ({
  event: 'exception',
  data: { status: 'error', message: `note ${message.id} failed`, cause: { pattern: 'notes.add', data: message } },
});

// ─── a real `ws` client ──────────────────────────────────────────────────────

interface Frame {
  readonly event: string;
  readonly data: unknown;
}

/** A `ws` client on loopback that keeps every frame it receives. */
class Client {
  readonly frames: Frame[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw) => this.frames.push(JSON.parse((raw as Buffer).toString()) as Frame));
  }

  static async connect(port: number, path = '/'): Promise<Client> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new Client(socket);
  }

  send(event: string, data: unknown): void {
    this.socket.send(JSON.stringify({ event, data }));
  }

  /** Waits for the frame that `match` picks, among those received so far and later. */
  frame(what: string, match: (frame: Frame) => boolean): Promise<Frame> {
    return waitFor(what, () => this.frames.find(match));
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.close();
    await closed;
  }
}

/**
 * A fresh app for each test of the calling describe, with the gateways on the
 * platform-ws adapter, sharing the HTTP server's port (127.0.0.1, port 0).
 */
function freshApp(metadata: () => ModuleMetadata) {
  const clients: Client[] = [];
  let closed: Promise<void> | undefined;
  const handle = {
    app: undefined as unknown as INestApplication,
    port: 0,
    get runner(): BackgroundTasksMonitor {
      return handle.app.get(BackgroundTasksMonitor);
    },
    async connect(path?: string): Promise<Client> {
      const client = await Client.connect(handle.port, path);
      clients.push(client);
      return client;
    },
    /** A test may close the app itself; the one close() then serves afterEach too. */
    close(): Promise<void> {
      return (closed ??= handle.app.close());
    },
  };
  beforeEach(async () => {
    closed = undefined;
    const moduleRef = await Test.createTestingModule(metadata()).compile();
    handle.app = moduleRef.createNestApplication();
    handle.app.useLogger(logger);
    handle.app.useWebSocketAdapter(new WsAdapter(handle.app));
    await handle.app.listen(0, '127.0.0.1');
    handle.port = (handle.app.getHttpServer().address() as AddressInfo).port;
  });
  afterEach(async () => {
    gates.clear();
    await Promise.all(clients.splice(0).map((client) => client.close()));
    if (handle.app) await handle.close();
  });
  return handle;
}

beforeEach(() => {
  resetWebSockets();
  resetTaskRecord();
  logger.errors.length = 0;
  logger.warnings.length = 0;
});

describe('WebSocket gateway (platform-ws): @Background() in @SubscribeMessage() handlers', () => {
  const handle = freshApp(() => ({
    imports: [tasksModule({ shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT })],
    providers: [NotesGateway],
  }));

  it('runs the tasks with their own arguments once the reply has been sent, and the reply does not wait for them', async () => {
    const client = await handle.connect();
    gates.hold('task:w-1');
    client.send('notes.add', { id: 'w-1' });
    await client.frame('the reply', (frame) => frame.event === 'notes.added');
    // The task is held: the reply got here while it could not have finished.
    journal.push('client-received:w-1');
    await waitFor('the task to start', () => journal.includes('task:w-1'));
    gates.open('task:w-1');
    await released(handle.runner, 'the tasks of the message w-1');

    expect(client.frames).toEqual([added('w-1')]);
    // The server sent the reply before the first task started.
    expectInOrder(['handler:w-1', 'sent:notes.added:ack:w-1', 'task:w-1', 'task-done:w-1', 'audit:w-1']);
    expectInOrder(['client-received:w-1', 'task-done:w-1']);
    expect(journal).toHaveLength(6);
    expect(taskRecord.succeeded).toEqual([deliverEvent('w-1'), auditEvent('w-1')]);
    expectStats(handle.runner, { succeeded: 2 });
  });

  it.each([
    ['on one connection', 1],
    ['spread over 4 connections', 4],
  ])(
    'gives each of 100 concurrent messages %s its own BackgroundTasks: every task once, with its own arguments',
    async (_case, connections) => {
      const clients = await Promise.all(Array.from({ length: connections }, () => handle.connect()));
      // Half reply a turn later, so that pipelines interleave; every fourth fails.
      const messages: Note[] = Array.from({ length: 100 }, (_, i) => ({
        id: `c-${i}`,
        ...(i % 2 === 1 && { defer: true }),
        ...(i % 4 === 3 && { fail: true }),
      }));
      const failing = messages.filter((message) => message.fail);
      expect(failing).toHaveLength(25);
      const clientOf = (i: number) => clients[i % connections];

      messages.forEach((message, i) => clientOf(i).send('notes.add', message));
      await waitFor('every reply', () => clients.reduce((sum, client) => sum + client.frames.length, 0) === 100);
      await released(handle.runner, 'the tasks of 100 messages');

      // Each client got exactly the replies to its own messages.
      clients.forEach((client, c) => {
        const own = messages.filter((_, i) => i % connections === c);
        const key = (frame: Frame) => JSON.stringify(frame);
        expect(client.frames.map(key).sort()).toEqual(
          own.map((message) => key(message.fail ? failed(message) : added(message.id))).sort(),
        );
      });
      expect([...tasksByMessage.values()].map((list) => list.length)).toEqual(messages.map(() => 1));
      expect(new Set([...tasksByMessage.values()].flat()).size).toBe(100);

      const byTask = (a: Seen, b: Seen) => `${a.name}:${String(a.args[0])}`.localeCompare(`${b.name}:${String(b.args[0])}`);
      expect([...taskRecord.succeeded].sort(byTask)).toEqual(
        messages.flatMap(({ id, fail }) => [auditEvent(id), ...(fail ? [] : [deliverEvent(id)])]).sort(byTask),
      );
      expect([...taskRecord.dropped].sort(byTask)).toEqual(
        failing.map(({ id }) => droppedAs('request-failed', deliverEvent(id))).sort(byTask),
      );
      // How many times each message's tasks ran to their end: [deliver, audit].
      const runs = (id: string) => [count(`task-done:${id}`), count(`audit:${id}`)];
      expect(Object.fromEntries(messages.map(({ id }) => [id, runs(id)]))).toEqual(
        Object.fromEntries(messages.map(({ id, fail }) => [id, [fail ? 0 : 1, 1]])),
      );
      expectStats(handle.runner, { succeeded: 75 + 100, dropped: 25 });
    },
  );

  it('drops the plain task of a handler that throws a WsException (reason request-failed) and runs the always one', async () => {
    const client = await handle.connect();
    const message: Note = { id: 'x-1', fail: true };
    client.send('notes.add', message);
    await client.frame('the exception', (frame) => frame.event === 'exception');
    await released(handle.runner, 'the tasks of the failed message x-1');

    expect(client.frames).toEqual([failed(message)]);
    expect(journal).toEqual(['handler:x-1', 'sent:exception:note x-1 failed', 'audit:x-1']);
    expect(taskRecord.dropped).toEqual([droppedAs('request-failed', deliverEvent('x-1'))]);
    expect(taskRecord.succeeded).toEqual([auditEvent('x-1')]);
    expectStats(handle.runner, { succeeded: 1, dropped: 1 });
  });

  it('leaves a handler without @Background() alone: its reply, no tasks, no errors', async () => {
    const client = await handle.connect();
    client.send('notes.ping', 'p-1');
    await client.frame('the pong', (frame) => frame.event === 'notes.pong');
    await flush();

    expect(client.frames).toEqual([{ event: 'notes.pong', data: 'p-1' }]);
    expect(journal).toEqual(['ping:p-1', 'sent:notes.pong:p-1']);
    expect(logger.errors).toEqual([]);
    expect(taskRecord.queued).toBe(0);
    expectStats(handle.runner, {});
  });
});

describe.each([
  ['the default mode', {}],
  ["mode 'inline'", { mode: 'inline' as const }],
])('WebSocket gateway (platform-ws), in %s: a client that leaves before its answer', (_mode, options) => {
  const handle = freshApp(() => ({ imports: [tasksModule(options)], providers: [NotesGateway] }));

  /** Closes the client, and waits until the server has seen it go (Nest's adapter then unsubscribes from its answers). */
  async function leave(client: Client): Promise<void> {
    await client.close();
    await waitFor('the server to see the client leave', () => journal.includes('disconnected'));
  }

  /** Nothing that waits for the tasks is held up any more: the app closes at once, and shutdown drops nothing. */
  async function expectNothingLeftForShutdown(): Promise<void> {
    await within('app.close(), with no task left to wait for', handle.close(), RELEASE_DEADLINE);
    expect(logger.warnings).toEqual([]);
  }

  it.each<[string, Note, Seen[], Seen[]]>([
    ['returns', { id: 'd-1', hold: true }, [deliverEvent('d-1'), auditEvent('d-1')], []],
    ['throws', { id: 'd-2', hold: true, fail: true }, [auditEvent('d-2')], [droppedAs('request-failed', deliverEvent('d-2'))]],
  ])(
    'a handler that %s after its client left: its tasks wait for it, then follow its outcome, once each',
    async (_case, message, succeeded, dropped) => {
      const { id } = message;
      const client = await handle.connect();
      gates.hold(`handler:${id}`);
      client.send('notes.add', message);
      await waitFor('the handler to start', () => journal.includes(`handler:${id}`));
      await leave(client);

      // The handler still runs: its tasks must not.
      await letWrongOutcomeShow();
      expect(journal).toEqual([`handler:${id}`, 'disconnected']);
      expectStats(handle.runner, { queued: 2 });

      gates.open(`handler:${id}`);
      await released(handle.runner, `the tasks of the handler whose client left (${id})`);

      // Nest's exception filter may still write the error into the closed socket.
      expect(journal.filter((entry) => !entry.startsWith('sent:'))).toEqual([
        `handler:${id}`,
        'disconnected',
        `handler-done:${id}`,
        ...(message.fail ? [] : [`task:${id}`, `task-done:${id}`]),
        `audit:${id}`,
      ]);
      expect(taskRecord.succeeded).toEqual(succeeded);
      expect(taskRecord.dropped).toEqual(dropped);
      expectStats(handle.runner, { succeeded: succeeded.length, dropped: dropped.length });
      await expectNothingLeftForShutdown();
    },
  );

  it('a handler whose Observable has answered and never completes: its tasks run once the client leaves, and it is unsubscribed', async () => {
    const client = await handle.connect();
    client.send('notes.watch', 'w-1');
    await client.frame('the first answer', (frame) => frame.event === 'notes.watching');
    // The stream goes on: its tasks wait.
    await letWrongOutcomeShow();
    expect(journal).toEqual(['watch:w-1', 'sent:notes.watching:w-1:watching']);
    expectStats(handle.runner, { queued: 2 });

    await leave(client);
    await released(handle.runner, 'the tasks of the stream whose client left');

    // Inline mode runs them as the adapter lets go of the stream, which may come before the gateway hears of it.
    expectInOrder(['watch:w-1', 'sent:notes.watching:w-1:watching', 'task:w-1', 'task-done:w-1', 'audit:w-1']);
    expect([count('disconnected'), count('unsubscribed:w-1')]).toEqual([1, 1]);
    expect(journal).toHaveLength(7);
    const watch = { transport: 'ws', method: 'WS', path: 'notes.watch' } as const;
    expect(taskRecord.succeeded).toEqual([
      { name: 'deliver', args: ['w-1'], ...watch },
      { name: 'audit', args: ['w-1'], ...watch },
    ]);
    expectStats(handle.runner, { succeeded: 2 });
    await expectNothingLeftForShutdown();
  });
});

describe('WebSocket gateway (platform-ws): BackgroundTasks injected into a gateway, or into a provider it uses', () => {
  const handle = freshApp(() => ({
    imports: [tasksModule({ shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT })],
    providers: [InjectingGateway, RemindersGateway, ReminderService],
  }));

  const cases = [
    ['into the gateway', '/injected', 'notes.injected', 'injected-handler'],
    ['into a REQUEST-scoped provider of the gateway', '/reminders', 'notes.remind', 'reminder-handler'],
  ];

  it.each(cases)(
    'injected %s: the app starts, connecting is harmless, and each use of the tasks throws the clear error',
    async (_case, path, event, handlerNote) => {
      // Nest resolves such a gateway when a client connects and leaves, outside any handler.
      const watch = watchProcess();
      try {
        const client = await handle.connect(path);
        client.send(event, 'i-1');
        client.send(event, 'i-2');
        await waitFor('both exception frames', () => client.frames.length === 2);
        await client.close();
        await flush();

        expect(client.frames).toEqual(
          ['i-1', 'i-2'].map((data) => ({
            event: 'exception',
            data: { status: 'error', message: 'Internal server error', cause: { pattern: event, data } },
          })),
        );
        const lines = await waitFor('both errors to be logged', () => {
          const found = logger.errors.filter((line) => line.includes('BackgroundTasks cannot be injected here'));
          return found.length === 2 && found;
        });
        for (const line of lines) expect(line).toContain(INJECTION_ERROR);
        // The handlers ran up to addTask(), which added nothing.
        expect(journal).toEqual([`${handlerNote}:i-1`, `${handlerNote}:i-2`]);
        expectStats(handle.runner, {});
        expect(watch.unhandledRejections).toEqual([]);
      } finally {
        watch.stop();
      }
    },
  );
});
