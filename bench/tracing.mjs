// The OpenTelemetry SDK of the tracing pair (pair 5), registered as an app
// registers it, and what both of its variants share: a span per request, as
// the HTTP instrumentation would start it. Only the traced variants import
// this file, so that no other variant loads @opentelemetry/api.
import { performance } from 'node:perf_hooks';
import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Ships spans nowhere: the bench measures making them, the same for both variants. */
const discard = { export: (_spans, done) => done({ code: 0 }), shutdown: () => Promise.resolve() };

/** Never collected: the instruments record as in an app, nothing is exported. */
class NeverCollected extends MetricReader {
  onForceFlush() {
    return Promise.resolve();
  }
  onShutdown() {
    return Promise.resolve();
  }
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] }));
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new NeverCollected()] }));

const tracer = trace.getTracer('bench');

/** Starts the request's span, active for the rest of the request, ended with the response. */
export function requestSpan(req, res, next) {
  const span = tracer.startSpan(`${req.method} /`, { kind: SpanKind.SERVER });
  res.once('close', () => span.end());
  context.with(trace.setSpan(context.active(), span), next);
}

// ---- the hand-written baseline -------------------------------------------------
// What `tracing: true` does for a trivial task that succeeds, written by hand:
// a span linked to the request's, with the same attributes, active while the
// task runs; the ended counter and the two histograms.

const meter = metrics.getMeter('bench');
const ended = meter.createCounter('background_task.ended', { unit: '{task}' });
const duration = meter.createHistogram('background_task.duration', { unit: 's' });
const waitTime = meter.createHistogram('background_task.wait_time', { unit: 's' });
const SUCCEEDED = Object.freeze({ 'background_task.outcome': 'succeeded' });

/** Wraps `fn`, added now in a request at `req.method` `path`, in a span of its own when it runs. */
export function tracedByHand(fn, method, path) {
  const request = trace.getSpanContext(context.active());
  const addedAt = performance.now();
  return (...args) => {
    const startedAt = performance.now();
    waitTime.record((startedAt - addedAt) / 1000);
    const span = tracer.startSpan(`background-task ${fn.name}`, {
      kind: SpanKind.INTERNAL,
      root: true,
      links: request === undefined ? undefined : [{ context: request }],
      attributes: {
        'background_task.name': fn.name,
        'background_task.transport': 'http',
        'background_task.wait_time': (startedAt - addedAt) / 1000,
        'background_task.attempt': 1,
        'http.request.method': method,
        'url.path': path,
      },
    });
    try {
      context.with(trace.setSpan(context.active(), span), fn, undefined, ...args);
      span.setAttribute('background_task.outcome', 'succeeded');
    } catch (error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      ended.add(1, SUCCEEDED);
      duration.record((performance.now() - startedAt) / 1000, SUCCEEDED);
      span.end();
    }
  };
}
