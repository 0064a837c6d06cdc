import {
  isSpanContextValid,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanKind,
  type Tracer,
} from '@opentelemetry/api';
import type { ResolvedTracingOptions } from '../core/runner-options.js';
import { errorMessage } from '../utils/describe.js';
import * as names from './names.js';

export interface SpanStart {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
}

/**
 * Starts a span related to the span of `caller` (the code that added the
 * task): its child with `parent: 'child'`; otherwise a trace of its own,
 * linked to it, since the caller's span has ended, or soon will. No link
 * where no valid span was active.
 */
export function startRelated(tracer: Tracer, parent: ResolvedTracingOptions['parent'], caller: Context, start: SpanStart): Span {
  const { name, kind, attributes } = start;
  if (parent === 'child') return tracer.startSpan(name, { kind, attributes }, caller);
  const callerSpan = trace.getSpanContext(caller);
  const links = callerSpan !== undefined && isSpanContextValid(callerSpan) ? [{ context: callerSpan }] : undefined;
  return tracer.startSpan(name, { kind, root: true, links, attributes });
}

/** A failure: the exception, its type, and status ERROR. */
export function recordFailure(span: Span, detail: unknown): void {
  const error = isError(detail);
  span.recordException(error ? detail : errorMessage(detail));
  span.setAttribute(names.ATTR_ERROR_TYPE, error ? detail.name : '_OTHER');
  span.setStatus({ code: SpanStatusCode.ERROR, message: error ? detail.message : errorMessage(detail) });
}

/** An Error, or a DOMException (the timeout's, the abort's), from this realm or another. */
function isError(value: unknown): value is Error {
  if (value instanceof Error) return true;
  const { name, message } = (value ?? {}) as Partial<Error>;
  return typeof name === 'string' && typeof message === 'string';
}
