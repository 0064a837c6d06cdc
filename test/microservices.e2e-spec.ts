import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { type ClientProxy, ClientProxyFactory, type TcpOptions, Transport } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AddressInfo, Server } from 'node:net';
import { firstValueFrom, lastValueFrom, tap } from 'rxjs';
import { type BackgroundTaskDropReason, BackgroundTasksMonitor, type BackgroundTasksModuleOptions } from '../lib/index.js';
import {
  gates,
  INVOICE_PATTERN,
  journal,
  microserviceControllers,
  microserviceProviders,
  type Order,
  replyRecorder,
  resetMicroservices,
  tasksByMessage,
} from './fixtures/microservices.app.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { count as countIn, expectInOrder as expectInOrderIn } from './utils/journal.js';
import {
  expectStats,
  released,
  resetTaskRecord,
  type Seen,
  SHORT_SHUTDOWN_TIMEOUT,
  taskRecord,
  tasksModule,
} from './utils/task-record.js';
import { flush } from './utils/process-watch.js';
import { letWrongOutcomeShow, track, waitFor } from './utils/wait-for.js';

// Nest's logger override is process-wide, so every app of this file shares one.
const logger = new CapturingLogger();

const count = (entry: string) => countIn(journal, entry);
const expectInOrder = (entries: string[]) => expectInOrderIn(journal, entries);

/** What a message's two tasks report: `deliver(id, fails)` on its plain side, `audit(id)` always. */
const rpc = (path: string) => ({ transport: 'rpc', method: 'RPC', path }) as const;
const deliverEvent = (id: string, path: string): Seen => ({ name: 'deliver', args: [id, false], ...rpc(path) });
const auditEvent = (id: string, path: string): Seen => ({ name: 'audit', args: [id], ...rpc(path) });
const droppedAs = (reason: BackgroundTaskDropReason, event: Seen): Seen => ({ ...event, reason });

// ─── how the microservice is started ─────────────────────────────────────────

/** A running microservice: its bound TCP port, the runner, and how to close it. */
interface Service {
  readonly port: number;
  readonly runner: BackgroundTasksMonitor;
  /** How many clients are connected to it, as its TCP server counts them. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

const tcp = {
  transport: Transport.TCP,
  options: { host: '127.0.0.1', port: 0, serializer: replyRecorder },
} satisfies TcpOptions;

function serviceOf(context: INestApplicationContext, microservice: { unwrap<T>(): T }): Service {
  const server = microservice.unwrap<Server>();
  return {
    // Port 0 asks the OS for one: read back what the TCP server is bound to.
    port: (server.address() as AddressInfo).port,
    runner: context.get(BackgroundTasksMonitor),
    connections: () =>
      new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    close: () => context.close(),
  };
}

type Starter = (moduleRef: TestingModule) => Promise<Service>;

/** An HTTP app with a connected TCP microservice; the design requires `inheritAppConfig: true`. */
const hybrid =
  (inheritAppConfig: boolean): Starter =>
  async (moduleRef) => {
    const app = moduleRef.createNestApplication();
    app.useLogger(logger);
    const microservice = app.connectMicroservice(tcp, { inheritAppConfig });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    return serviceOf(app, microservice);
  };

const standalone: Starter = async (moduleRef) => {
  const microservice = moduleRef.createNestMicroservice(tcp);
  microservice.useLogger(logger);
  await microservice.listen();
  return serviceOf(microservice, microservice);
};

/**
 * A fresh service and a connected TCP client for each test of the calling
 * describe, so that stats() starts at zero. A test may close the service
 * itself; otherwise it is closed after the test, gates opened first so that
 * close() does not wait for a held task.
 */
function freshService(start: Starter, metadata: () => ModuleMetadata) {
  let service: Service | undefined;
  let closed: Promise<void> | undefined;
  const handle = {
    client: undefined as unknown as ClientProxy,
    get runner(): BackgroundTasksMonitor {
      return service!.runner;
    },
    connections(): Promise<number> {
      return service!.connections();
    },
    close(): Promise<void> {
      return (closed ??= service?.close() ?? Promise.resolve());
    },
  };
  beforeEach(async () => {
    closed = service = undefined;
    service = await start(await Test.createTestingModule(metadata()).compile());
    const options = { host: '127.0.0.1', port: service.port };
    handle.client = ClientProxyFactory.create({ transport: Transport.TCP, options });
    await handle.client.connect();
  });
  afterEach(async () => {
    gates.clear();
    await handle.client?.close();
    await handle.close();
  });
  return handle;
}

/** The fixture's controllers and providers, with the module configured by `options`. */
const appWith =
  (options: BackgroundTasksModuleOptions = {}) =>
  () => ({
    imports: [tasksModule(options)],
    controllers: microserviceControllers,
    providers: microserviceProviders,
  });

beforeEach(() => {
  resetMicroservices();
  resetTaskRecord();
  logger.errors.length = 0;
  logger.warnings.length = 0;
});

// ─── the cases, on both kinds of microservice ────────────────────────────────

const kinds: Array<[string, Starter]> = [
  ['a hybrid app (HTTP + connectMicroservice with inheritAppConfig: true)', hybrid(true)],
  ['a standalone microservice', standalone],
];

describe.each(kinds)('TCP microservice: %s', (_kind, start) => {
  const handle = freshService(start, appWith({ shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT }));

  const send = (pattern: unknown, order: Order) => firstValueFrom(handle.client.send<string, Order>(pattern, order));
  // emit() completes once the event is written; there is no reply.
  const emit = (pattern: string, order: Order) => lastValueFrom(handle.client.emit(pattern, order), { defaultValue: undefined });

  describe('@MessagePattern', () => {
    it.each([
      ['constructor injection in a REQUEST-scoped controller', 'orders.create', 'orders.create'],
      ['constructor injection in a REQUEST-scoped service', INVOICE_PATTERN, '{"cmd":"invoices.issue"}'],
      ['@Background() in a singleton controller', 'notify', 'notify'],
    ])(
      '%s: runs the tasks with their own arguments once the reply has left, and the reply does not wait for them',
      async (_case, pattern, path) => {
        gates.hold('task:o-1');
        expect(await send(pattern, { id: 'o-1' })).toBe('ack:o-1');
        // The task is held: the reply got here while it could not have finished.
        journal.push('client-received:o-1');
        await waitFor('the task to start', () => journal.includes('task:o-1'));
        gates.open('task:o-1');
        await released(handle.runner, 'the tasks of the message o-1');

        // The server wrote the whole reply before the first task started.
        expectInOrder(['handler:o-1', 'sent:ack:o-1', 'sent:end', 'task:o-1', 'task-done:o-1', 'audit:o-1']);
        expectInOrder(['client-received:o-1', 'task-done:o-1']);
        expect(journal).toHaveLength(7);
        expect(taskRecord.succeeded).toEqual([deliverEvent('o-1', path), auditEvent('o-1', path)]);
        expectStats(handle.runner, { succeeded: 2 });
      },
    );

    it('runs the tasks of a handler that returns an Observable only after its last value, once the stream is complete', async () => {
      gates.hold('stream:t-1');
      const values: string[] = [];
      const completed = lastValueFrom(
        handle.client.send<string, Order>('notify.track', { id: 't-1' }).pipe(tap((value) => values.push(value))),
      );
      await waitFor('the first value', () => values.length === 1);
      // Plenty of turns for the tasks to start, if they wrongly did after the first value.
      await flush();
      expect(journal).toEqual(['handler:t-1', 'sent:t-1:accepted']);
      expectStats(handle.runner, { queued: 2 });

      gates.open('stream:t-1');
      await completed;
      await released(handle.runner, 'the tasks of the completed stream t-1');

      expect(values).toEqual(['t-1:accepted', 't-1:packed', 't-1:shipped']);
      expect(journal).toEqual([
        'handler:t-1',
        'sent:t-1:accepted',
        'sent:t-1:packed',
        'sent:t-1:shipped',
        'sent:end',
        'task:t-1',
        'task-done:t-1',
        'audit:t-1',
      ]);
      expect(taskRecord.succeeded).toEqual([deliverEvent('t-1', 'notify.track'), auditEvent('t-1', 'notify.track')]);
      expectStats(handle.runner, { succeeded: 2 });
    });
  });

  describe('@EventPattern', () => {
    it('runs the tasks of a sync handler (@Background()) after it returned', async () => {
      await emit('notified', { id: 'e-1' });
      // The client has no reply to wait for: wait for the handler to have added its tasks.
      await waitFor('the handler to add its tasks', () => taskRecord.queued === 2);
      await released(handle.runner, 'the tasks of the event e-1');

      expect(journal).toEqual(['handler:e-1', 'handler-done:e-1', 'task:e-1', 'task-done:e-1', 'audit:e-1']);
      expect(taskRecord.succeeded).toEqual([deliverEvent('e-1', 'notified'), auditEvent('e-1', 'notified')]);
      expectStats(handle.runner, { succeeded: 2 });
    });

    it('runs the tasks of an async handler (REQUEST-scoped controller) only after it resolved', async () => {
      gates.hold('handler:e-2');
      await emit('orders.created', { id: 'e-2' });
      await waitFor('the handler to start', () => journal.includes('handler:e-2'));
      await flush();
      expect(journal).toEqual(['handler:e-2']);
      expectStats(handle.runner, { queued: 2 });

      gates.open('handler:e-2');
      await released(handle.runner, 'the tasks of the event e-2');

      expect(journal).toEqual(['handler:e-2', 'handler-done:e-2', 'task:e-2', 'task-done:e-2', 'audit:e-2']);
      expect(taskRecord.succeeded).toEqual([deliverEvent('e-2', 'orders.created'), auditEvent('e-2', 'orders.created')]);
      expectStats(handle.runner, { succeeded: 2 });
    });
  });

  it.each<['a message' | 'an event', string, string, Order['fail']]>([
    ['a message', 'whose @Background() handler throws', 'notify', 'throw'],
    ['a message', 'whose injected handler rejects', 'orders.create', 'reject'],
    ['an event', 'whose @Background() handler throws', 'notified', 'throw'],
    ['an event', 'whose injected handler rejects', 'orders.created', 'reject'],
  ])('%s %s: drops the plain task with reason request-failed and runs the always one', async (kind, _case, pattern, fail) => {
    const order: Order = { id: 'x-1', fail };
    if (kind === 'a message') {
      await expect(send(pattern, order)).rejects.toEqual({ status: 'error', message: 'order x-1 failed' });
    } else {
      await emit(pattern, order);
      await waitFor('the handler to add its tasks', () => taskRecord.queued === 2);
    }
    await released(handle.runner, `the tasks of ${kind} x-1 that failed`);

    expect(journal.filter((entry) => !entry.startsWith('sent:') && !entry.startsWith('handler-done:'))).toEqual([
      'handler:x-1',
      'audit:x-1',
    ]);
    expect(taskRecord.dropped).toEqual([droppedAs('request-failed', deliverEvent('x-1', pattern))]);
    expect(taskRecord.succeeded).toEqual([auditEvent('x-1', pattern)]);
    expectStats(handle.runner, { succeeded: 1, dropped: 1 });
  });

  it('gives each of 200 concurrent messages its own BackgroundTasks: every task once, with its own arguments and path', async () => {
    const routes = [
      { pattern: 'orders.create' as unknown, path: 'orders.create' },
      { pattern: INVOICE_PATTERN, path: '{"cmd":"invoices.issue"}' },
      { pattern: 'notify', path: 'notify' },
    ];
    // Every fourth message fails, alternately by throwing and by rejecting: 50 of 200.
    const messages = Array.from({ length: 200 }, (_, i) => {
      const order: Order = { id: `m-${i}`, ...(i % 4 === 3 && { fail: i % 8 === 3 ? 'throw' : 'reject' }) };
      return { ...routes[i % routes.length], order };
    });
    const failing = messages.filter(({ order }) => order.fail !== undefined);
    expect(failing).toHaveLength(50);

    const replies = await Promise.all(
      messages.map(({ pattern, order }) => send(pattern, order).catch((error: unknown) => ({ error }))),
    );
    await released(handle.runner, 'the tasks of 200 messages');

    expect(replies).toEqual(
      messages.map(({ order }) =>
        order.fail ? { error: { status: 'error', message: `order ${order.id} failed` } } : `ack:${order.id}`,
      ),
    );
    // One BackgroundTasks per message, and no message's handler saw another's.
    expect([...tasksByMessage.values()].map((list) => list.length)).toEqual(messages.map(() => 1));
    expect(new Set([...tasksByMessage.values()].flat()).size).toBe(200);

    const byTask = (a: Seen, b: Seen) => `${a.name}:${String(a.args[0])}`.localeCompare(`${b.name}:${String(b.args[0])}`);
    expect([...taskRecord.succeeded].sort(byTask)).toEqual(
      messages
        .flatMap(({ order: { id, fail }, path }) => [auditEvent(id, path), ...(fail ? [] : [deliverEvent(id, path)])])
        .sort(byTask),
    );
    expect([...taskRecord.dropped].sort(byTask)).toEqual(
      failing.map(({ order, path }) => droppedAs('request-failed', deliverEvent(order.id, path))).sort(byTask),
    );
    // How many times each message's tasks ran to their end: [deliver, audit].
    const runs = (id: string) => [count(`task-done:${id}`), count(`audit:${id}`)];
    expect(Object.fromEntries(messages.map(({ order: { id } }) => [id, runs(id)]))).toEqual(
      Object.fromEntries(messages.map(({ order: { id, fail } }) => [id, [fail ? 0 : 1, 1]])),
    );
    expectStats(handle.runner, { succeeded: 150 + 200, dropped: 50 });
  });

  it('refuses BackgroundTasks resolved inside a handler that nothing prepared for tasks, with the clear error', async () => {
    await expect(send('late', { id: 'l-1' })).rejects.toEqual({ status: 'error', message: 'Internal server error' });

    const line = await waitFor('the error to be logged', () =>
      logger.errors.find((entry) => entry.includes('BackgroundTasks was requested')),
    );
    expect(line).toContain('BackgroundTasks was requested after the handler had started, for a message that does not use it');
    expectStats(handle.runner, {});
  });

  it('logs a failing task, and still runs the task after it and the tasks of other messages', async () => {
    await Promise.all([
      send('notify', { id: 'f-1', failTask: true }),
      send('orders.create', { id: 'f-2' }),
      send(INVOICE_PATTERN, { id: 'f-3' }),
    ]);
    await released(handle.runner, 'the tasks of the messages f-1 to f-3');

    expect(journal.filter((entry) => entry.startsWith('audit:') || entry.startsWith('task-done:')).sort()).toEqual(
      ['audit:f-1', 'audit:f-2', 'audit:f-3', 'task-done:f-2', 'task-done:f-3'].sort(),
    );
    expectInOrder(['task:f-1', 'audit:f-1']);
    expect(logger.errors.filter((line) => line.includes('Background task'))).toEqual([
      expect.stringContaining('Background task "deliver" of RPC notify failed: courier is down for f-1'),
    ]);
    expectStats(handle.runner, { succeeded: 5, failed: 1 });
  });
});

// ─── close(), with the default shutdownTimeout ───────────────────────────────

describe.each(kinds)('TCP microservice: %s, at close()', (_kind, start) => {
  const handle = freshService(start, appWith());

  it('close() waits for the running task of a message, and the task queued behind it', async () => {
    gates.hold('task:s-1');
    expect(await firstValueFrom(handle.client.send('notify', { id: 's-1' }))).toBe('ack:s-1');
    await waitFor('the task to start', () => journal.includes('task:s-1'));

    const closing = track(handle.close().then(() => void journal.push('closed')));
    await waitFor('close() to start', () => journal.includes('closing'));
    await letWrongOutcomeShow();
    expect(closing.settled).toBe(false);

    gates.open('task:s-1');
    await waitFor('close() to resolve', () => closing.settled);

    expectInOrder(['task:s-1', 'closing', 'task-done:s-1', 'audit:s-1', 'closed']);
    expectStats(handle.runner, { succeeded: 2 });
  });
});

// ─── a client that leaves before its answer ──────────────────────────────────

describe.each([
  ['the default mode', {}],
  ["mode 'inline'", { mode: 'inline' as const }],
])('TCP microservice, in %s: a client that leaves while its message’s handler runs', (_mode, options) => {
  const handle = freshService(standalone, appWith({ ...options, shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT }));

  it.each<[string, Order, string[], { succeeded: number; dropped?: number }]>([
    ['returns', { id: 'g-1' }, ['task:g-1', 'task-done:g-1', 'audit:g-1'], { succeeded: 2 }],
    ['rejects', { id: 'g-2', fail: 'reject' }, ['audit:g-2'], { succeeded: 1, dropped: 1 }],
  ])(
    'a message handler that %s after its client left: the transport still takes its answer, so its tasks follow its outcome, once each',
    async (_case, order, tasksRun, counts) => {
      gates.hold(`handler:${order.id}`);
      // The client leaves before the answer: nothing will read it.
      handle.client.send('notify.held', order).subscribe({ error: () => undefined });
      await waitFor('the handler to start', () => journal.includes(`handler:${order.id}`));
      await handle.client.close();
      await waitFor('the server to see the client leave', async () => (await handle.connections()) === 0);

      // The handler still runs: its tasks must not.
      await letWrongOutcomeShow();
      expect(journal).toEqual([`handler:${order.id}`]);
      expectStats(handle.runner, { queued: 2 });

      gates.open(`handler:${order.id}`);
      await released(handle.runner, `the tasks of the message ${order.id}, whose client left`);

      // The answer is still written, into the closed connection.
      await waitFor('the answer to be written', () => journal.includes('sent:end'));
      expect(journal.filter((entry) => !entry.startsWith('sent:'))).toEqual([
        `handler:${order.id}`,
        `handler-done:${order.id}`,
        ...tasksRun,
      ]);
      expectStats(handle.runner, counts);
    },
  );
});

// ─── what the docs say of a stream that never completes ──────────────────────

describe('TCP microservice: a handler whose Observable never completes', () => {
  const handle = freshService(standalone, appWith({ shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT }));

  it('holds its tasks until shutdown, which waits out shutdownTimeout and then drops them, naming them', async () => {
    const values: string[] = [];
    // Shutdown closes the connection under the stream.
    handle.client
      .send<string, Order>('notify.watch', { id: 't-9' })
      .subscribe({ next: (value) => values.push(value), error: () => undefined });
    await waitFor('the first value', () => values.length === 1);
    await letWrongOutcomeShow();
    expectStats(handle.runner, { queued: 2 });

    await handle.close();

    expect(journal).toEqual(['handler:t-9', 'sent:t-9:watching', 'closing']);
    expect(logger.warnings).toEqual([
      expect.stringContaining(
        `Shutdown timeout of ${SHORT_SHUTDOWN_TIMEOUT} ms expired; running tasks have their signal aborted, queued ones are dropped: ` +
          '"deliver" (queued, RPC notify.watch), "audit" (queued, RPC notify.watch)',
      ),
    ]);
    expect(taskRecord.dropped).toEqual([
      droppedAs('shutdown', deliverEvent('t-9', 'notify.watch')),
      droppedAs('shutdown', auditEvent('t-9', 'notify.watch')),
    ]);
    expectStats(handle.runner, { dropped: 2 });
  });
});

// ─── what Nest does to a hybrid app without inheritAppConfig ─────────────────

describe('TCP microservice: a hybrid app WITHOUT inheritAppConfig (Nest applies no APP_INTERCEPTOR to it)', () => {
  const handle = freshService(hybrid(false), appWith({ shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT }));

  it('fails a message whose handler takes @Background(): the client gets an error, and Nest logs why', async () => {
    await expect(firstValueFrom(handle.client.send('notify', { id: 'n-1' }))).rejects.toEqual({
      status: 'error',
      message: 'Internal server error',
    });

    const line = await waitFor('the error to be logged', () => logger.errors.find((entry) => entry.includes('@Background()')));
    expect(line).toContain(
      '@Background() found no BackgroundTasks for this message: import BackgroundTasksModule in the root module.',
    );
    // The parameter could not be resolved, so the handler never ran.
    expect(journal).toEqual(['sent:error', 'sent:end']);
    expectStats(handle.runner, {});
  });

  it.each<[string, Order, string[], { succeeded: number; dropped?: number }]>([
    [
      'runs them',
      { id: 'n-2' },
      ['handler:n-2', 'sent:ack:n-2', 'sent:end', 'task:n-2', 'task-done:n-2', 'audit:n-2'],
      { succeeded: 2 },
    ],
    [
      'drops the plain one of a failed message',
      { id: 'n-2', fail: 'throw' },
      ['handler:n-2', 'sent:error', 'sent:end', 'audit:n-2'],
      { succeeded: 1, dropped: 1 },
    ],
  ])(
    'still releases the tasks of an injected BackgroundTasks once the answer has gone out: %s',
    async (_case, order, expected, counts) => {
      await firstValueFrom(handle.client.send('orders.create', order)).catch(() => undefined);
      await released(handle.runner, 'the tasks of the message n-2, which only its answer releases here');

      expect(journal).toEqual(expected);
      expectStats(handle.runner, counts);
    },
  );
});
