import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A reader that only reads when asked: the test collects, nothing exports on a timer. */
class InMemoryReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The real OpenTelemetry SDK, registered globally as an app registers it:
 * spans go to an in-memory exporter as each ends; metrics are read on demand.
 * The context manager is the SDK's AsyncLocalStorage one, and the propagator
 * W3C Trace Context, as the Node SDK's.
 */
export class OtelSdk {
  readonly exporter = new InMemorySpanExporter();
  private reader = new InMemoryReader();
  private readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
  private readonly contextManager = new AsyncLocalStorageContextManager().enable();

  constructor() {
    context.setGlobalContextManager(this.contextManager);
    trace.setGlobalTracerProvider(this.tracerProvider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    this.resetMetrics();
  }

  /** A fresh meter provider and reader: apps created from now on record there. The meter is taken at startup. */
  resetMetrics(): void {
    metrics.disable();
    this.reader = new InMemoryReader();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [this.reader] }));
  }

  /** Runs `test` with another tracer provider registered, then this SDK's again. */
  async withTracerProvider(provider: BasicTracerProvider, test: () => Promise<void>): Promise<void> {
    trace.disable();
    trace.setGlobalTracerProvider(provider);
    try {
      await test();
    } finally {
      trace.disable();
      trace.setGlobalTracerProvider(this.tracerProvider);
    }
  }

  /** The spans ended so far. */
  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans();
  }

  /** The spans ended so far of tasks, by the task's name. */
  taskSpans(name: string): ReadableSpan[] {
    return this.spans().filter((span) => span.name === `background-task ${name}`);
  }

  /** Collects the metrics now, by name. */
  async metrics(): Promise<Metrics> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw errors[0];
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    return new Metrics(byName);
  }

  shutdown(): void {
    this.contextManager.disable();
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
  }
}

/** One collection of metrics. */
export class Metrics {
  constructor(readonly byName: ReadonlyMap<string, MetricData>) {}

  /** The value of a sum (counter, up-down counter) for the data point with that attribute, 0 if it has none. */
  sum(name: string, attribute: string, value: string): number {
    const point = this.points(name).find((p) => p.attributes[attribute] === value);
    return (point?.value as number | undefined) ?? 0;
  }

  /** How many values a histogram recorded, over all its data points. */
  histogramCount(name: string): number {
    return this.points(name).reduce((total, point) => total + (point.value as Histogram).count, 0);
  }

  points(name: string): Array<DataPoint<unknown>> {
    return this.byName.get(name)?.dataPoints ?? [];
  }
}
