import { context, propagation, SpanKind, trace, type Span } from '@opentelemetry/api';
import type { JobRun, TraceCarrier } from '../core/job-tracker.js';
import type { ResolvedTracingOptions } from '../core/runner-options.js';
import * as names from './names.js';
import { recordFailure, startRelated } from './related-span.js';

/**
 * One span per attempt of a job that a worker runs here, named
 * `background-task <handler name>`, active while the handler runs. Of kind
 * CONSUMER: in OpenTelemetry's messaging conventions, the processing of a
 * message received from a broker. Related, as a task's span is to its
 * caller's, to the span whose trace context the job carries from the
 * process that added it: linked, or its child (`parent` option).
 */
export class JobSpans {
  private readonly tracer = trace.getTracer(names.INSTRUMENTATION_NAME);

  constructor(private readonly parent: ResolvedTracingOptions['parent']) {}

  /** The trace context of the active span, for a job to carry; `undefined` without a valid one. */
  carrier(): TraceCarrier | undefined {
    const active = context.active();
    const span = trace.getSpanContext(active);
    if (span === undefined || !trace.isSpanContextValid(span)) return undefined;
    const carrier: Record<string, string> = {};
    propagation.inject(active, carrier);
    // No propagator registered: nothing to carry.
    return Object.keys(carrier).length > 0 ? carrier : undefined;
  }

  run(run: JobRun, carrier: TraceCarrier | undefined, call: () => Promise<void>): Promise<void> {
    // The carried context's baggage, if the app propagates some, comes along too.
    const caller = carrier === undefined ? context.active() : propagation.extract(context.active(), carrier);
    const span = startRelated(this.tracer, this.parent, caller, {
      name: names.spanName(run.name),
      kind: SpanKind.CONSUMER,
      attributes: {
        [names.ATTR_NAME]: run.name,
        [names.ATTR_TRANSPORT]: 'job',
        // Since the enqueue, by the clock of the process that added it: delays and earlier attempts included.
        [names.ATTR_WAIT_TIME]: Math.max(0, Date.now() - run.enqueuedAt) / 1000,
        [names.ATTR_ATTEMPT]: run.attempt,
        [names.ATTR_MESSAGING_SYSTEM]: 'bullmq',
        [names.ATTR_MESSAGING_DESTINATION]: run.queue,
        [names.ATTR_MESSAGING_MESSAGE_ID]: run.id,
        [names.ATTR_MESSAGING_OPERATION_TYPE]: 'process',
      },
    });
    run.observed = span;
    return context.with(trace.setSpan(caller, span), call);
  }

  ended(run: JobRun, succeeded: boolean, error: unknown): void {
    const span = run.observed as Span | undefined;
    // Its span could not be started (the telemetry said why), or it never ran (an unknown handler).
    if (span === undefined) return;
    run.observed = undefined;
    if (!succeeded) recordFailure(span, error);
    span.setAttribute(names.ATTR_OUTCOME, succeeded ? 'succeeded' : 'failed');
    span.end();
  }

  abandoned(run: JobRun): void {
    (run.observed as Span | undefined)?.addEvent(names.EVENT_ABORTED);
  }
}
