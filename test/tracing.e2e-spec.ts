import type { INestApplication } from '@nestjs/common';
import { SpanKind, SpanStatusCode, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Test } from '@nestjs/testing';
import { Agent } from 'node:http';
import { BackgroundTasksMonitor, type BackgroundTasksModuleOptions } from '../lib/index.js';
import { seenInTask, tracedModule } from './fixtures/tracing.app.js';
import { HTTP_ADAPTERS, listenOn, type CreateHttpAdapter } from './utils/adapters.js';
import { pool, send } from './utils/load.js';
import { OtelSdk } from './utils/otel-sdk.js';
import { waitFor, within } from './utils/wait-for.js';

/**
 * The `tracing` option in real apps, against the real OpenTelemetry SDK:
 * each request has a span (started by a middleware, as the HTTP
 * instrumentation would), and each task's span must link to its own
 * request's, however many requests run at once.
 */

const sdk = new OtelSdk();
afterAll(() => sdk.shutdown());

async function start(createAdapter: CreateHttpAdapter, options: BackgroundTasksModuleOptions): Promise<INestApplication> {
  sdk.exporter.reset();
  sdk.resetMetrics();
  seenInTask.clear();
  const moduleRef = await Test.createTestingModule({ imports: [tracedModule(options)] }).compile();
  return listenOn(moduleRef, createAdapter, { logger: false });
}

function post(app: INestApplication, agent: Agent, path: string) {
  // An empty JSON body: Fastify refuses a JSON content type without one.
  return send({ agent, port: (app.getHttpServer() as { address(): { port: number } }).address().port, path, json: {} });
}

const ids = (context: SpanContext | undefined) => context && { traceId: context.traceId, spanId: context.spanId };

describe.each(HTTP_ADAPTERS)('tracing on %s', (_, createAdapter) => {
  let app: INestApplication;
  const agent = new Agent({ keepAlive: true, maxSockets: 100 });

  afterEach(() => app && within('close()', app.close()));
  afterAll(() => agent.destroy());

  it('links the span of each task to the span of the request that added it, under 100 concurrent requests', async () => {
    app = await start(createAdapter, { tracing: true });
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => post(app, agent, `/orders/${i}`)));
    await within('the tasks', app.get(BackgroundTasksMonitor).whenIdle());
    await waitFor('100 task spans', () => sdk.taskSpans('confirmOrder').length === 100);

    const taskSpans = new Map(sdk.taskSpans('confirmOrder').map((span) => [span.attributes['url.path'], span]));
    const requestSpans = new Map(
      sdk
        .spans()
        .filter((s) => s.kind === SpanKind.SERVER)
        .map((s) => [s.spanContext().spanId, s]),
    );
    for (const [i, reply] of replies.entries()) {
      if (!('status' in reply)) throw new Error(`request ${i} got no reply`);
      expect(reply.status).toBe(201);
      const request = JSON.parse(reply.body) as SpanContext;
      expect(requestSpans.has(request.spanId)).toBe(true);
      const span = taskSpans.get(`/orders/${i}`)!;
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).not.toBe(request.traceId);
      expect(span.links.map((link) => ids(link.context))).toEqual([ids(request)]);
      // Active in the task, after an await too.
      expect(ids(seenInTask.get(String(i)))).toEqual(ids(span.spanContext()));
    }
  });

  it("makes each task's span a child of its request's span with parent: 'child'", async () => {
    app = await start(createAdapter, { tracing: { parent: 'child' } });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => post(app, agent, `/orders/${i}`)));
    await within('the tasks', app.get(BackgroundTasksMonitor).whenIdle());
    await waitFor('20 task spans', () => sdk.taskSpans('confirmOrder').length === 20);

    const taskSpans = new Map(sdk.taskSpans('confirmOrder').map((span) => [span.attributes['url.path'], span]));
    for (const [i, reply] of replies.entries()) {
      const request = JSON.parse((reply as { body: string }).body) as SpanContext;
      const span = taskSpans.get(`/orders/${i}`)!;
      expect(span.parentSpanContext?.spanId).toBe(request.spanId);
      expect(span.spanContext().traceId).toBe(request.traceId);
      expect(span.links).toEqual([]);
    }
  });

  it('gives each outcome its attributes and status: success, failure, timeout, drop and cancel', async () => {
    app = await start(createAdapter, { tracing: true });
    for (const path of ['/orders/7', '/fail', '/timeout', '/drop', '/cancel']) await post(app, agent, path);
    await within('the tasks', app.get(BackgroundTasksMonitor).whenIdle());
    await waitFor('5 task spans', () => sdk.spans().filter((s) => s.name.startsWith('background-task ')).length === 5);

    const only = (name: string): ReadableSpan => {
      const spans = sdk.taskSpans(name);
      expect(spans).toHaveLength(1);
      return spans[0];
    };
    const common = (name: string, path: string) => ({
      'background_task.name': name,
      'background_task.transport': 'http',
      'http.request.method': 'POST',
      'url.path': path,
      'background_task.attempt': 1,
      'background_task.wait_time': expect.any(Number),
    });
    expect(only('confirmOrder').attributes).toEqual({
      ...common('confirmOrder', '/orders/7'),
      'background_task.outcome': 'succeeded',
    });
    expect(only('breaks').attributes).toEqual({
      ...common('breaks', '/fail'),
      'background_task.outcome': 'failed',
      'error.type': 'RangeError',
    });
    expect(only('breaks').status).toEqual({ code: SpanStatusCode.ERROR, message: 'out of stock' });
    expect(only('breaks').events.map((event) => event.name)).toEqual(['exception']);
    expect(only('hangs').attributes).toEqual({
      ...common('hangs', '/timeout'),
      'background_task.outcome': 'timed-out',
      'error.type': 'TimeoutError',
    });
    expect(only('hangs').status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'Background task "hangs" timed out after 20 ms.',
    });
    expect(only('neverRuns').attributes).toEqual({
      ...common('neverRuns', '/drop'),
      'background_task.outcome': 'dropped',
      'background_task.reason': 'request-failed',
    });
    expect(only('changedMyMind').attributes).toEqual({
      ...common('changedMyMind', '/cancel'),
      'background_task.outcome': 'cancelled',
      'background_task.reason': 'cancelled',
    });
    for (const name of ['confirmOrder', 'neverRuns', 'changedMyMind']) expect(only(name).status.code).toBe(SpanStatusCode.UNSET);
    // Each is linked to its request's span, whether it ran or not.
    const requestSpanIds = new Set(
      sdk
        .spans()
        .filter((s) => s.kind === SpanKind.SERVER)
        .map((s) => s.spanContext().spanId),
    );
    for (const name of ['confirmOrder', 'breaks', 'hangs', 'neverRuns', 'changedMyMind']) {
      expect(only(name).links.map((link) => requestSpanIds.has(link.context.spanId))).toEqual([true]);
    }
  });

  it('records metrics equal to stats() after a load run', async () => {
    app = await start(createAdapter, { tracing: true, concurrency: 4 });
    const paths = ['/orders/1', '/orders/2', '/fail', '/timeout', '/drop', '/cancel'];
    await pool(300, 20, (i) => post(app, agent, paths[i % paths.length]));
    const runner = app.get(BackgroundTasksMonitor);
    await within('the tasks', runner.whenIdle());

    const stats = runner.stats();
    expect(stats).toEqual({
      queued: 0,
      running: 0,
      overdue: 0,
      succeeded: 100,
      failed: 50,
      timedOut: 50,
      dropped: 50,
      cancelled: 50,
    });
    const metrics = await sdk.metrics();
    const ended = (outcome: string) => metrics.sum('background_task.ended', 'background_task.outcome', outcome);
    expect({
      queued: metrics.sum('background_task.count', 'background_task.state', 'queued'),
      running: metrics.sum('background_task.count', 'background_task.state', 'running'),
      overdue: metrics.sum('background_task.count', 'background_task.state', 'overdue'),
      succeeded: ended('succeeded'),
      failed: ended('failed'),
      timedOut: ended('timed-out'),
      dropped: ended('dropped'),
      cancelled: ended('cancelled'),
    }).toEqual(stats);
    expect(metrics.histogramCount('background_task.duration')).toBe(stats.succeeded + stats.failed + stats.timedOut);
    expect(metrics.histogramCount('background_task.wait_time')).toBe(stats.succeeded + stats.failed + stats.timedOut);
  });

  it('adds an event to the span of a task still running when the shutdown timeout expires', async () => {
    app = await start(createAdapter, { tracing: true, shutdownTimeout: 50 });
    await post(app, agent, '/long');
    await waitFor('the task to start', () => app.get(BackgroundTasksMonitor).stats().running === 1);
    await within('close()', app.close());
    await waitFor('its span', () => sdk.taskSpans('long').length === 1);

    const [span] = sdk.taskSpans('long');
    expect(span.events.map((event) => event.name)).toEqual(['background_task.aborted', 'exception']);
    expect(span.attributes).toMatchObject({ 'background_task.outcome': 'failed', 'error.type': 'AbortError' });
    app = undefined as unknown as INestApplication;
  });
});
