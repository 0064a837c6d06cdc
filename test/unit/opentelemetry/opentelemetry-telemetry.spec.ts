import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resolveOptions } from '../../../lib/core/runner-options.js';
import { RequestBackgroundTasks } from '../../../lib/core/request-background-tasks.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTasksModuleOptions } from '../../../lib/interfaces/index.js';
import { openTelemetry } from '../../../lib/opentelemetry/opentelemetry-telemetry.js';
import { OtelSdk } from '../../utils/otel-sdk.js';
import { batchDone, fail, ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { aborted } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, within } from '../../utils/wait-for.js';

/**
 * The OpenTelemetry adapter against the real SDK (in-memory exporter and
 * reader), on a TaskRunner without Nest: the spans of tasks, how they relate
 * to the span of the code that added them, and the metrics. The e2e suite
 * (tracing.e2e-spec.ts) does the same through HTTP requests.
 */

const watched = watchEachTest();
let sdk: OtelSdk;
const tracer = () => trace.getTracer('test');

beforeAll(() => (sdk = new OtelSdk()));
afterAll(() => sdk.shutdown());
beforeEach(() => {
  sdk.exporter.reset();
  sdk.resetMetrics();
});

function tracedRunner(options: BackgroundTasksModuleOptions = {}): TaskRunner {
  const resolved = resolveOptions({ tracing: true, ...options });
  return new TaskRunner(resolved, resolved.tracing === false ? undefined : openTelemetry(resolved.tracing));
}

/** Adds tasks inside a request span, as an instrumented HTTP server would have it; returns that span's context. */
function inRequestSpan(add: () => void): SpanContext {
  return tracer().startActiveSpan('POST /orders/:id', (span) => {
    add();
    span.end();
    return span.spanContext();
  });
}

function onlySpan(name: string): ReadableSpan {
  const spans = sdk.taskSpans(name);
  expect(spans).toHaveLength(1);
  return spans[0];
}

describe('the span of a task that runs', () => {
  it('is named after the task, active while it runs (across awaits), and carries its attributes', async () => {
    const runner = tracedRunner();
    const tasks = ownedTasks(runner, 'POST', '/orders/42');
    const seen: Array<SpanContext | undefined> = [];
    tasks.addTaskWithOptions({ name: 'send-receipt' }, async () => {
      seen.push(trace.getActiveSpan()?.spanContext());
      await new Promise((resolve) => setTimeout(resolve, 1));
      // What the task calls (an instrumented client) starts its spans under the task's.
      tracer().startActiveSpan('GET smtp', (client) => client.end());
      seen.push(trace.getActiveSpan()?.spanContext());
    });
    succeed(tasks);
    await batchDone(tasks);

    const span = onlySpan('send-receipt');
    expect(seen).toEqual([span.spanContext(), span.spanContext()]);
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'background_task.name': 'send-receipt',
      'background_task.transport': 'http',
      'http.request.method': 'POST',
      'url.path': '/orders/42',
      'background_task.wait_time': expect.any(Number),
      'background_task.attempt': 1,
      'background_task.outcome': 'succeeded',
    });
    expect(span.attributes['background_task.wait_time']).toBeGreaterThanOrEqual(0);
    const client = sdk.spans().find((s) => s.name === 'GET smtp')!;
    expect(client.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(client.spanContext().traceId).toBe(span.spanContext().traceId);
  });

  it('is a new trace linked to the span that added the task, by default', async () => {
    const runner = tracedRunner();
    const tasks = ownedTasks(runner);
    const request = inRequestSpan(() => tasks.addTask(function notify() {}));
    succeed(tasks);
    await batchDone(tasks);

    const span = onlySpan('notify');
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(request.traceId);
    expect(span.links.map((link) => link.context)).toEqual([request]);
  });

  it("is a child of the span that added the task with parent: 'child'", async () => {
    const runner = tracedRunner({ tracing: { parent: 'child' } });
    const tasks = ownedTasks(runner);
    const request = inRequestSpan(() => tasks.addTask(function notify() {}));
    succeed(tasks);
    await batchDone(tasks);

    const span = onlySpan('notify');
    expect(span.parentSpanContext?.spanId).toBe(request.spanId);
    expect(span.spanContext().traceId).toBe(request.traceId);
    expect(span.links).toEqual([]);
  });

  it('is a root without links when no valid span was active where the task was added', async () => {
    const runner = tracedRunner();
    const tasks = ownedTasks(runner);
    tasks.addTask(function notify() {});
    // What a propagator leaves when a request carried no trace context.
    const invalid = trace.setSpan(context.active(), trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
    context.with(invalid, () => tasks.addTask(function notifyAgain() {}));
    succeed(tasks);
    await batchDone(tasks);

    for (const span of [onlySpan('notify'), onlySpan('notifyAgain')]) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
    }
  });

  it('names the method and path of a message, and none for the app’s own tasks', async () => {
    const runner = tracedRunner();
    const message = new RequestBackgroundTasks(runner, { transport: 'rpc', method: 'RPC', path: 'orders.created' });
    const app = new RequestBackgroundTasks(runner, { transport: 'none', method: '', path: '' });
    message.addTask(function fromMessage() {});
    app.addTask(function fromApp() {});
    runner.settle(message.batch, 'succeeded');
    runner.settle(app.batch, 'succeeded');
    await within('the tasks', runner.whenIdle());

    expect(onlySpan('fromMessage').attributes).toMatchObject({
      'background_task.transport': 'rpc',
      'background_task.method': 'RPC',
      'background_task.path': 'orders.created',
    });
    const appAttributes = Object.keys(onlySpan('fromApp').attributes);
    expect(appAttributes).toContain('background_task.transport');
    expect(appAttributes.filter((key) => /method|path/.test(key))).toEqual([]);
  });

  it('records a failure: the exception, its type, and status ERROR', async () => {
    const runner = tracedRunner();
    const tasks = ownedTasks(runner);
    tasks.addTask(function breaks() {
      throw new RangeError('out of stock');
    });
    tasks.addTask(async function rejects() {
      throw 'not an Error';
    });
    succeed(tasks);
    await batchDone(tasks);

    const thrown = onlySpan('breaks');
    expect(thrown.status).toEqual({ code: SpanStatusCode.ERROR, message: 'out of stock' });
    expect(thrown.attributes).toMatchObject({ 'background_task.outcome': 'failed', 'error.type': 'RangeError' });
    expect(thrown.events.map((event) => [event.name, event.attributes?.['exception.type']])).toEqual([
      ['exception', 'RangeError'],
    ]);
    const rejected = onlySpan('rejects');
    expect(rejected.status).toEqual({ code: SpanStatusCode.ERROR, message: 'not an Error' });
    expect(rejected.attributes).toMatchObject({ 'background_task.outcome': 'failed', 'error.type': '_OTHER' });
    expect(watched.errorMessages()).toHaveLength(2);
  });

  it('ends at a timeout, with the TimeoutError and status ERROR', async () => {
    const runner = tracedRunner();
    const tasks = ownedTasks(runner);
    tasks.addTaskWithOptions(
      { name: 'hangs', timeout: 20 },
      ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', resolve)),
    );
    succeed(tasks);
    await batchDone(tasks);

    const span = onlySpan('hangs');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toBe('Background task "hangs" timed out after 20 ms.');
    expect(span.attributes).toMatchObject({ 'background_task.outcome': 'timed-out', 'error.type': 'TimeoutError' });
    expect(watched.errorMessages()).toEqual(['Background task "hangs" of POST /orders/42 timed out after 20 ms.']);
  });

  it('gets an event when the shutdown timeout expires while it runs, and ends with the task', async () => {
    const runner = tracedRunner({ shutdownTimeout: 10 });
    const tasks = ownedTasks(runner);
    tasks.addTaskWithOptions(
      { name: 'long' },
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    );
    succeed(tasks);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      await runner.beforeApplicationShutdown();
      await runner.onApplicationShutdown();
    } finally {
      log.mockRestore();
    }
    await batchDone(tasks);

    const span = onlySpan('long');
    expect(span.events.map((event) => event.name)).toEqual(['background_task.aborted', 'exception']);
    expect(span.attributes).toMatchObject({ 'background_task.outcome': 'failed', 'error.type': 'AbortError' });
  });
});

describe('a failing SDK', () => {
  it.each(['onStart', 'onEnd'] as const)(
    'never fails a task nor the runner: a span processor whose %s throws is logged once',
    async (hook) => {
      const processor: SpanProcessor = {
        onStart: () => undefined,
        onEnd: () => undefined,
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
        [hook]: () => {
          throw new Error('exporter down');
        },
      };
      await sdk.withTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }), async () => {
        const runner = tracedRunner();
        const tasks = ownedTasks(runner);
        const ran: string[] = [];
        tasks.addTask(() => void ran.push('sync'));
        tasks.addTask(async () => void ran.push('async'));
        tasks.addTaskWithOptions({ name: 'never' }, () => undefined);
        tasks.cancel('never');
        tasks.addTask(function breaks() {
          throw new RangeError('its own');
        });
        succeed(tasks);
        await batchDone(tasks);

        expect(ran).toEqual(['sync', 'async']);
        expect(runner.stats()).toMatchObject({ queued: 0, running: 0, succeeded: 2, failed: 1, cancelled: 1 });
        expect(watched.errorMessages()).toEqual([
          'OpenTelemetry threw while tracing a background task: exporter down. The tasks run on, without what failed; ' +
            'check the span processors, exporters and metric readers of your OpenTelemetry SDK. Later failures are not logged.',
          'Background task "breaks" of POST /orders/42 failed: its own',
        ]);
      });
    },
  );
});

describe('the span of a task that never runs', () => {
  it.each([
    ['dropped, as its request failed', 'dropped', 'request-failed'],
    ['dropped, as the queue was full', 'dropped', 'overflow'],
    ['cancelled', 'cancelled', 'cancelled'],
    ['replaced by a task of the same name', 'cancelled', 'replaced'],
  ])('says it was %s, linked to the span that added it', async (_, outcome, reason) => {
    const runner = tracedRunner({ maxQueued: 1, overflow: 'drop-newest' });
    const tasks = ownedTasks(runner);
    const request = inRequestSpan(() => {
      tasks.addTaskWithOptions({ name: 'email' }, () => undefined);
      if (reason === 'overflow') tasks.addTaskWithOptions({ name: 'extra' }, () => undefined);
      if (reason === 'cancelled') tasks.cancel('email');
      if (reason === 'replaced') tasks.addTaskWithOptions({ name: 'email' }, () => undefined);
    });
    if (reason === 'request-failed') fail(tasks);
    else succeed(tasks);
    await batchDone(tasks);

    const spans = sdk.taskSpans(reason === 'overflow' ? 'extra' : 'email');
    const span = spans.find((s) => s.attributes['background_task.outcome'] !== 'succeeded')!;
    expect(spans).toHaveLength(reason === 'replaced' ? 2 : 1);
    expect(span.attributes).toMatchObject({ 'background_task.outcome': outcome, 'background_task.reason': reason });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.links.map((link) => link.context)).toEqual([request]);
  });
});

describe('metrics', () => {
  it('equal stats() after a mixed run: ended by outcome, queued and running, and one duration per task run', async () => {
    const runner = tracedRunner({ concurrency: 2, maxQueued: 50, overflow: 'drop-newest' });
    const held = deferred();
    // Two that hold both slots while the others wait behind them, or are dropped: more than the queue takes.
    const holder = ownedTasks(runner);
    holder.concurrent = true;
    holder.addTask(() => held.promise);
    holder.addTask(() => held.promise);
    const batches = Array.from({ length: 20 }, (_, i) => {
      const tasks = ownedTasks(runner);
      tasks.addTask(() => undefined);
      tasks.addTask(async () => {
        if (i % 5 === 0) throw new Error('no');
      });
      // Some overrun, and return once their signal is aborted.
      tasks.addTaskWithOptions({ name: 'maybe', timeout: 10 }, ({ signal }) => (i % 7 === 0 ? aborted(signal) : undefined));
      if (i % 3 === 0) tasks.cancel('maybe');
      return tasks;
    });
    succeed(holder);
    for (const tasks of batches.slice(0, 10)) succeed(tasks);
    for (const tasks of batches.slice(10)) fail(tasks);

    const during = await sdk.metrics();
    const { queued, running } = runner.stats();
    expect(running).toBe(2);
    expect(queued).toBeGreaterThan(0);
    expect(during.sum('background_task.count', 'background_task.state', 'running')).toBe(running);
    expect(during.sum('background_task.count', 'background_task.state', 'queued')).toBe(queued);
    held.resolve();
    await within('the runner to be idle', runner.whenIdle());

    const stats = runner.stats();
    expect(stats.succeeded + stats.failed + stats.timedOut + stats.dropped + stats.cancelled).toBe(62);
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.timedOut).toBeGreaterThan(0);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.cancelled).toBeGreaterThan(0);
    const after = await sdk.metrics();
    const ended = (outcome: string) => after.sum('background_task.ended', 'background_task.outcome', outcome);
    expect({
      succeeded: ended('succeeded'),
      failed: ended('failed'),
      timedOut: ended('timed-out'),
      dropped: ended('dropped'),
      cancelled: ended('cancelled'),
      queued: after.sum('background_task.count', 'background_task.state', 'queued'),
      running: after.sum('background_task.count', 'background_task.state', 'running'),
      overdue: after.sum('background_task.count', 'background_task.state', 'overdue'),
    }).toEqual({ ...stats });
    const ran = stats.succeeded + stats.failed + stats.timedOut;
    expect(after.histogramCount('background_task.duration')).toBe(ran);
    expect(after.histogramCount('background_task.wait_time')).toBe(ran);
    expect(after.byName.get('background_task.duration')?.descriptor.unit).toBe('s');
    expect(after.byName.get('background_task.ended')?.descriptor.unit).toBe('{task}');
    // Shutdown logs the summary of the overflow drops, which would otherwise come a second later.
    await runner.beforeApplicationShutdown();
    await runner.onApplicationShutdown();
  });

  it('stop reading the runner once it has shut down', async () => {
    const runner = tracedRunner();
    await runner.beforeApplicationShutdown();
    await runner.onApplicationShutdown();
    expect((await sdk.metrics()).points('background_task.count')).toEqual([]);
  });

  it('are not recorded with metrics: false, while spans are', async () => {
    const runner = tracedRunner({ tracing: { metrics: false } });
    const tasks = ownedTasks(runner);
    tasks.addTask(function notify() {});
    succeed(tasks);
    await batchDone(tasks);
    expect(onlySpan('notify').attributes['background_task.outcome']).toBe('succeeded');
    expect([...(await sdk.metrics()).byName.keys()]).toEqual([]);
  });
});
