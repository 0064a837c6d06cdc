import { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Task } from '../../../lib/core/task.js';
import type { JobRun, TraceCarrier } from '../../../lib/core/job-tracker.js';
import { resolveOptions } from '../../../lib/core/runner-options.js';
import type { DispatchOutcome, TaskDispatcher } from '../../../lib/core/task-dispatcher.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTasksModuleOptions } from '../../../lib/interfaces/index.js';
import { openTelemetry } from '../../../lib/opentelemetry/opentelemetry-telemetry.js';
import { OtelSdk } from '../../utils/otel-sdk.js';
import { batchDone, ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';

/**
 * Tracing across a queue, against the real SDK (W3C Trace Context
 * propagator): the trace context that a dispatched task hands its queue
 * backend, and the spans of the attempts of jobs that a worker runs, on
 * TaskRunners without Nest. test/bullmq/tracing.e2e-spec.ts proves it with
 * BullMQ and two processes.
 */

const watched = watchEachTest();
let sdk: OtelSdk;

beforeAll(() => (sdk = new OtelSdk()));
afterAll(() => sdk.shutdown());
beforeEach(() => sdk.exporter.reset());

class Mailer {
  sendWelcome(): void {}
}

/** Takes every task, and keeps the trace context each came with. */
class RecordingDispatcher implements TaskDispatcher {
  readonly onEnqueueFailure = 'drop';
  readonly traces: Array<TraceCarrier | undefined> = [];
  admit(): void {}
  dispatch(_task: Task, trace?: TraceCarrier): Promise<DispatchOutcome> {
    this.traces.push(trace);
    return Promise.resolve('enqueued');
  }
}

function runnerWithQueue(options: BackgroundTasksModuleOptions) {
  const resolved = resolveOptions(options);
  const runner = new TaskRunner(resolved, resolved.tracing === false ? undefined : openTelemetry(resolved.tracing));
  runner.handlers.register({ name: 'Mailer.sendWelcome', fn: Mailer.prototype.sendWelcome, instance: new Mailer(), options: {} });
  const dispatcher = new RecordingDispatcher();
  runner.setDispatcher(dispatcher);
  return { runner, dispatcher };
}

/** The trace context a handler's task added inside `span` (a request's) is dispatched with. */
async function dispatchedIn(options: BackgroundTasksModuleOptions, span?: SpanContext): Promise<TraceCarrier | undefined> {
  const { runner, dispatcher } = runnerWithQueue(options);
  const tasks = ownedTasks(runner);
  const add = () => tasks.addTask(Mailer.prototype.sendWelcome);
  if (span === undefined) add();
  else context.with(trace.setSpanContext(context.active(), span), add);
  succeed(tasks);
  await batchDone(tasks);
  expect(dispatcher.traces).toHaveLength(1);
  return dispatcher.traces[0];
}

const request: SpanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
const traceparent = `00-${request.traceId}-${request.spanId}-01`;

function jobRun(attempt = 1): JobRun {
  return { name: 'Mailer.sendWelcome', args: [], id: '42', queue: 'emails', attempt, attempts: 3, enqueuedAt: Date.now() - 1500 };
}

/** Runs one attempt on a worker's runner, as the BullMQ processor does: `work` is the handler's call. */
async function attempt(
  run: JobRun,
  carrier: TraceCarrier | undefined,
  work: () => Promise<void>,
  parent: 'link' | 'child' = 'link',
  { runner } = runnerWithQueue({ tracing: { parent } }),
) {
  runner.jobs.started(run);
  try {
    await runner.jobs.run(run, carrier, work);
  } catch (error) {
    runner.jobs.failed(run, error, run.attempt < run.attempts);
    return;
  }
  runner.jobs.succeeded(run);
}

function onlyJobSpan() {
  const spans = sdk.taskSpans('Mailer.sendWelcome');
  expect(spans).toHaveLength(1);
  return spans[0];
}

describe('the trace context a dispatched task carries', () => {
  it('is the W3C trace context of the span active where the task was added', async () => {
    expect(await dispatchedIn({ tracing: true }, request)).toEqual({ traceparent });
  });

  it('is none where no valid span was active', async () => {
    expect(await dispatchedIn({ tracing: true })).toBeUndefined();
    expect(await dispatchedIn({ tracing: true }, INVALID_SPAN_CONTEXT)).toBeUndefined();
  });

  it('is none without tracing', async () => {
    expect(await dispatchedIn({}, request)).toBeUndefined();
  });
});

describe("the span of a job's attempt on a worker", () => {
  it('is a CONSUMER span, active while the handler runs, linked to the carried span, with its attributes', async () => {
    let seen: SpanContext | undefined;
    await attempt(jobRun(2), { traceparent }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen = trace.getActiveSpan()?.spanContext();
    });

    const span = onlyJobSpan();
    expect(seen).toEqual(span.spanContext());
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(request.traceId);
    expect(span.links.map((link) => link.context)).toEqual([{ ...request, isRemote: true }]);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'background_task.name': 'Mailer.sendWelcome',
      'background_task.transport': 'job',
      'background_task.wait_time': expect.any(Number),
      'background_task.attempt': 2,
      'background_task.outcome': 'succeeded',
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'emails',
      'messaging.message.id': '42',
      'messaging.operation.type': 'process',
    });
    expect(span.attributes['background_task.wait_time']).toBeGreaterThanOrEqual(1.5);
  });

  it("is a child of the carried span with parent: 'child', in its trace", async () => {
    await attempt(jobRun(), { traceparent }, () => Promise.resolve(), 'child');

    const span = onlyJobSpan();
    expect(span.parentSpanContext?.spanId).toBe(request.spanId);
    expect(span.spanContext().traceId).toBe(request.traceId);
    expect(span.links).toEqual([]);
  });

  it.each(['link', 'child'] as const)('is a root without links when the job carries no trace context (%s)', async (parent) => {
    await attempt(jobRun(), undefined, () => Promise.resolve(), parent);

    const span = onlyJobSpan();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links).toEqual([]);
    expect(span.attributes['background_task.outcome']).toBe('succeeded');
  });

  it('records a failed attempt: the exception, its type, and status ERROR', async () => {
    await attempt(jobRun(), { traceparent }, () => Promise.reject(new RangeError('out of stock')));

    const span = onlyJobSpan();
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'out of stock' });
    expect(span.attributes).toMatchObject({ 'background_task.outcome': 'failed', 'error.type': 'RangeError' });
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    expect(watched.errorMessages()).toEqual([
      'Background job "Mailer.sendWelcome" (42) failed attempt 1 of 3, and will be retried: out of stock',
    ]);
  });

  it('gets an event when shutdown aborts the attempt, and ends with it', async () => {
    const { runner } = runnerWithQueue({ tracing: true });
    const run = jobRun();
    runner.jobs.started(run);
    const running = runner.jobs.run(run, { traceparent }, () => Promise.reject(new DOMException('shutting down', 'AbortError')));
    await expect(running).rejects.toThrow('shutting down');
    runner.jobs.abandoned(run);
    runner.jobs.failed(run, new DOMException('shutting down', 'AbortError'), true);

    const span = onlyJobSpan();
    expect(span.events.map((event) => event.name)).toEqual(['background_task.aborted', 'exception']);
    expect(span.attributes).toMatchObject({ 'background_task.outcome': 'failed', 'error.type': 'AbortError' });
  });
});

describe('a failing SDK', () => {
  it('never fails a job: a span processor that throws at the start is logged once, and the handler runs', async () => {
    const processor: SpanProcessor = {
      onStart: () => {
        throw new Error('exporter down');
      },
      onEnd: () => undefined,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    await sdk.withTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }), async () => {
      const worker = runnerWithQueue({ tracing: true });
      let ran = 0;
      const work = () => Promise.resolve(void ran++);
      await attempt(jobRun(), { traceparent }, work, 'link', worker);
      await attempt(jobRun(), { traceparent }, work, 'link', worker);
      expect(ran).toBe(2);
      expect(worker.runner.stats().jobs).toMatchObject({ running: 0, succeeded: 2, failed: 0 });
    });
    expect(watched.errorMessages()).toEqual([
      'OpenTelemetry threw while tracing a background task: exporter down. The tasks run on, without what failed; ' +
        'check the span processors, exporters and metric readers of your OpenTelemetry SDK. Later failures are not logged.',
    ]);
  });
});
