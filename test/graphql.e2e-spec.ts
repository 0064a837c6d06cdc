import { type INestApplication, Module } from '@nestjs/common';
import { Mutation, Resolver } from '@nestjs/graphql';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackgroundTasksMonitor, BackgroundTasksModule, type BackgroundTasksModuleOptions } from 'nestjs-background-tasks';
import { WebSocket } from 'ws';
import {
  gates,
  GraphQLAppModule,
  type GraphQLDriverName,
  journal,
  resetGraphQL,
  SubscriptionAppModule,
} from './fixtures/graphql.app.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { pool, type Reply, send } from './utils/load.js';
import { idle } from './utils/task-record.js';
import { waitFor, within } from './utils/wait-for.js';

const DRIVERS: ReadonlyArray<readonly [name: string, driver: GraphQLDriverName, adapter: () => AbstractHttpAdapter]> = [
  ['Apollo on Express', 'apollo', () => new ExpressAdapter()],
  ['Mercurius on Fastify', 'mercurius', () => new FastifyAdapter()],
];

async function startApp(
  driver: GraphQLDriverName,
  createAdapter: () => AbstractHttpAdapter,
  options: BackgroundTasksModuleOptions = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [GraphQLAppModule.forDriver(driver, options)] }).compile();
  const app = moduleRef.createNestApplication(createAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe.each(DRIVERS)('GraphQL (%s)', (_name, driver, createAdapter) => {
  let app: INestApplication;
  let runner: BackgroundTasksMonitor;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });

  /** POSTs a GraphQL document (or a batch of them) and parses the answer. */
  async function graphql(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: unknown }> {
    const reply = (await send({ agent, port, path: '/graphql', json: body, headers })) as Exclude<Reply, { aborted: true }>;
    return { status: reply.status, json: JSON.parse(reply.body) as unknown };
  }

  beforeAll(async () => {
    app = await startApp(driver, createAdapter);
    runner = app.get(BackgroundTasksMonitor);
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    agent.destroy();
    await app.close();
  });

  beforeEach(() => resetGraphQL());

  it('runs the tasks of @Background() and of injection after the response', async () => {
    const { status, json } = await graphql({ query: 'mutation { succeed(label: "a") injected(label: "b") }' });
    expect([status, json]).toEqual([200, { data: { succeed: true, injected: true } }]);
    await idle(runner);
    expect(journal).toEqual(['succeed:a', 'injected:b']);
  });

  it('runs the tasks once the response has been sent', async () => {
    gates.hold('slow');
    const { json } = await graphql({ query: 'mutation { slow(label: "s") }' });
    expect(json).toEqual({ data: { slow: true } });
    await waitFor('the task to start', () => runner.stats().running === 1);
    expect(journal).toEqual([]);
    gates.open('slow');
    await idle(runner);
    expect(journal).toEqual(['slow:s']);
  });

  it('gives @Background() and injection the same tasks', async () => {
    expect(await graphql({ query: '{ sameTasks }' })).toEqual({ status: 200, json: { data: { sameTasks: true } } });
    await idle(runner);
    expect(journal).toEqual([]);
  });

  it('drops the tasks of a resolver that throws, and runs those of one that succeeds', async () => {
    const { status, json } = await graphql({
      query: 'mutation { a: succeed(label: "a") b: fail(label: "b") c: injectedFail(label: "c") d: injected(label: "d") }',
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ data: { a: true, b: null, c: null, d: true } });
    await idle(runner);
    expect(journal).toEqual(['succeed:a', 'injected:d']);
  });

  it('runs the always tasks of a resolver that rejects', async () => {
    await graphql({ query: 'mutation { always(label: "x") }' });
    await idle(runner);
    expect(journal).toEqual(['always:x']);
  });

  it('gives each field resolver its own outcome (@ResolveField), without fieldResolverEnhancers', async () => {
    const { json } = await graphql({ query: '{ user(id: "7") { id profile broken } }' });
    expect(json).toMatchObject({ data: { user: { id: '7', profile: 'profile of 7', broken: null } } });
    await idle(runner);
    expect(journal).toEqual(['profile:7']);
  });

  it('shares one BackgroundTasks across a batch of operations, each field with its own outcome', async () => {
    const { status, json } = await graphql([
      { query: 'mutation { succeed(label: "one") }' },
      { query: 'mutation { fail(label: "two") }' },
      { query: 'mutation { injected(label: "three") }' },
    ]);
    expect(status).toBe(200);
    expect(json).toMatchObject([{ data: { succeed: true } }, { data: { fail: null } }, { data: { injected: true } }]);
    await idle(runner);
    expect(journal).toEqual(['succeed:one', 'injected:three']);
  });

  it('drops the tasks of a guard that rejects', async () => {
    await graphql({ query: 'mutation { guarded(label: "g") }' });
    await idle(runner);
    expect(journal).toEqual([]);
  });

  it('drops the tasks of a guard that rejects its field, even when another root field resolved', async () => {
    const { json } = await graphql({ query: 'mutation { guarded(label: "g") succeed(label: "s") }' });
    expect(json).toMatchObject({ data: { guarded: null, succeed: true } });
    await idle(runner);
    expect(journal).toEqual(['succeed:s']);
  });

  it('runs the tasks of a field whose error an exception filter turned into a result', async () => {
    const { json } = await graphql({ query: 'mutation { rescued(label: "r") }' });
    expect(json).toEqual({ data: { rescued: true } });
    await idle(runner);
    expect(journal).toEqual(['rescued:r']);
  });

  it('runs the tasks added before GraphQL saw the request (a middleware)', async () => {
    await graphql({ query: 'mutation { succeed(label: "m") }' }, { 'x-audit': '1' });
    await idle(runner);
    expect(journal).toEqual(['audit', 'audit-always', 'succeed:m']);
  });

  it.each([
    ['a parse error', 'mutation { succeed(label: "p") '],
    ['a validation error', 'mutation { succeed(label: "v") nope }'],
  ])('drops every task but the always ones on %s', async (_case, query) => {
    const { status } = await graphql({ query }, { 'x-audit': '1' });
    expect(status).toBe(400);
    await idle(runner);
    expect(journal).toEqual(['audit-always']);
  });

  it('counts exactly under 200 concurrent operations', async () => {
    const before = runner.stats();
    await pool(200, 50, (i) =>
      graphql({ query: `mutation { a: succeed(label: "${i}") b: fail(label: "${i}") c: always(label: "${i}") }` }),
    );
    await idle(runner);
    const after = runner.stats();
    expect(after.succeeded - before.succeeded).toBe(400);
    expect(after.dropped - before.dropped).toBe(400);
    expect([after.queued, after.running, after.failed - before.failed]).toEqual([0, 0, 0]);
    expect(journal.filter((entry) => entry.startsWith('succeed:'))).toHaveLength(200);
    expect(journal.filter((entry) => entry.startsWith('always:'))).toHaveLength(200);
  });
});

describe.each(DRIVERS)('GraphQL shutdown (%s)', (_name, driver, createAdapter) => {
  beforeEach(() => resetGraphQL());

  it('runs every task of the operations in flight when the app closes in the middle of 200 of them', async () => {
    const app = await startApp(driver, createAdapter);
    const runner = app.get(BackgroundTasksMonitor);
    const { port } = app.getHttpServer().address() as AddressInfo;
    const agent = new Agent({ keepAlive: false, maxSockets: 50 });
    gates.hold('slow');
    const replies = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        send({ agent, port, path: '/graphql', json: { query: `mutation { slow(label: "${i}") }` } }).catch(() => undefined),
      ),
    );
    await waitFor('some tasks to wait', () => runner.stats().queued + runner.stats().running >= 20);
    const closed = app.close();
    gates.open('slow');
    await within('the app to close', closed);
    const answered = (await replies).filter((reply) => reply !== undefined && 'status' in reply && reply.status === 200);
    agent.destroy();
    const stats = runner.stats();
    // Every operation that was answered ran its task (one whose answer the closing server cut off may have too);
    // none is left, none was dropped.
    expect([stats.queued, stats.running, stats.dropped, stats.failed]).toEqual([0, 0, 0, 0]);
    expect(stats.succeeded).toBe(journal.length);
    expect(journal.length).toBeGreaterThanOrEqual(answered.length);
    expect(answered.length).toBeGreaterThanOrEqual(20);
  });
});

describe.each(DRIVERS)("GraphQL in mode 'inline' (%s)", (_name, driver, createAdapter) => {
  beforeEach(() => resetGraphQL());

  it('does not hold the response back: the tasks run after it, each field with its outcome', async () => {
    const app = await startApp(driver, createAdapter, { mode: 'inline' });
    try {
      const { port } = app.getHttpServer().address() as AddressInfo;
      const agent = new Agent();
      const reply = await send({
        agent,
        port,
        path: '/graphql',
        json: { query: 'mutation { succeed(label: "i") fail(label: "j") }' },
      });
      agent.destroy();
      expect(reply).toMatchObject({ status: 200 });
      await idle(app.get(BackgroundTasksMonitor));
      expect(journal).toEqual(['succeed:i']);
    } finally {
      await app.close();
    }
  });
});

describe('GraphQL subscriptions (Mercurius over WebSocket)', () => {
  it('refuse @Background() with a clear error, and queue nothing', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [SubscriptionAppModule.create()] }).compile();
    const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
    const messages: Array<{ type: string; payload?: unknown }> = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as { type: string }));
    try {
      await within('the connection', new Promise((resolve) => socket.once('open', resolve)));
      socket.send(JSON.stringify({ type: 'connection_init' }));
      await waitFor('the ack', () => messages.some(({ type }) => type === 'connection_ack'));
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { onEvent }' } }));
      await waitFor('the answer', () => messages.some(({ type }) => type !== 'connection_ack'));
      expect(JSON.stringify(messages.find(({ type }) => type !== 'connection_ack'))).toContain(
        'BackgroundTasks is not supported in GraphQL subscriptions: their events go out over a WebSocket',
      );
      expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ queued: 0, succeeded: 0, dropped: 0 });
    } finally {
      socket.close();
      await app.close();
    }
  });
});

describe('GraphQL resolvers without a schema to wrap', () => {
  it('say so at startup: their fields get no outcome of their own', async () => {
    @Resolver()
    class OrphanResolver {
      @Mutation(() => Boolean)
      order(): boolean {
        return true;
      }
    }
    @Module({ imports: [BackgroundTasksModule], providers: [OrphanResolver] })
    class NoGraphQLModule {}
    const logger = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({ imports: [NoGraphQLModule] }).compile();
    const app = moduleRef.createNestApplication({ logger });
    try {
      await app.init();
      expect(logger.warnings).toEqual([
        'The app has GraphQL resolvers (OrphanResolver), but no schema built by @nestjs/graphql was found at bootstrap: ' +
          "fields get no outcome of their own, so a failing resolver's tasks run whenever the response's status is below 400. " +
          'Import GraphQLModule.forRoot() in the same application as BackgroundTasksModule. BackgroundTasks',
      ]);
    } finally {
      await app.close();
    }
  });
});
