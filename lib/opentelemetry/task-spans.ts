import { context, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import type { Task } from '../core/task.js';
import type { ResolvedTracingOptions } from '../core/runner-options.js';
import * as names from './names.js';
import { recordFailure, startRelated } from './related-span.js';

/**
 * One span per task, named `background-task <name>`. A task that runs has
 * its span from its start to its end, active while it runs, so that what it
 * calls (HTTP clients, database drivers) sees it as their parent. A task that
 * never runs (dropped, cancelled) gets a span at that moment, for its trace
 * to say so. Related to the span of the code that added the task, which the
 * task's async context holds: linked, or its parent (`parent` option).
 */
export class TaskSpans {
  private readonly tracer = trace.getTracer(names.INSTRUMENTATION_NAME);

  constructor(private readonly parent: ResolvedTracingOptions['parent']) {}

  /** Called in the task's async context: the active context is its caller's. */
  run(task: Task, call: () => unknown): unknown {
    const caller = context.active();
    const span = this.start(task, caller, task.startedAt);
    task.observed = span;
    return context.with(trace.setSpan(caller, span), call);
  }

  ended(task: Task, detail: unknown): void {
    let span = task.observed as Span | undefined;
    task.observed = undefined;
    if (task.state === 'dropped' || task.state === 'cancelled') {
      // One that never started has no span yet: it is made now.
      span ??= task.inAsyncContext(() => this.start(task, context.active(), performance.now()));
      span.setAttribute(names.ATTR_REASON, detail as string);
    } else if (span === undefined) {
      // Its span could not be started (the telemetry said why).
      return;
    } else if (task.state === 'failed' || task.state === 'timed-out') {
      recordFailure(span, detail);
    }
    span.setAttribute(names.ATTR_OUTCOME, task.state);
    span.end();
  }

  abandoned(task: Task): void {
    (task.observed as Span | undefined)?.addEvent(names.EVENT_ABORTED);
  }

  /** `until`: when it started, or was dropped or cancelled, which ends its wait. */
  private start(task: Task, caller: Context, until: number): Span {
    const start = { name: names.spanName(task.name), kind: SpanKind.INTERNAL, attributes: attributesOf(task, until) };
    return startRelated(this.tracer, this.parent, caller, start);
  }
}

function attributesOf(task: Task, until: number): Attributes {
  const { transport, method, path } = task.batch.owner.origin;
  const attributes: Attributes = {
    [names.ATTR_NAME]: task.name,
    [names.ATTR_TRANSPORT]: transport,
    [names.ATTR_WAIT_TIME]: (until - task.addedAt) / 1000,
    [names.ATTR_ATTEMPT]: 1,
  };
  if (transport === 'http') {
    attributes[names.ATTR_HTTP_METHOD] = method;
    attributes[names.ATTR_URL_PATH] = path;
  } else if (transport !== 'none') {
    attributes[names.ATTR_METHOD] = method;
    attributes[names.ATTR_PATH] = path;
  }
  return attributes;
}
