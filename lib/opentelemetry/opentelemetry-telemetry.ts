import type { BackgroundTask } from '../core/background-task.js';
import type { ResolvedTracingOptions } from '../core/runner-options.js';
import type { TaskTelemetry, TaskTelemetryFactory } from '../core/task-telemetry.js';
import { TaskMetrics } from './task-metrics.js';
import { TaskSpans } from './task-spans.js';

/**
 * The runner's telemetry through `@opentelemetry/api`: spans, and metrics
 * unless turned off. Only the `tracing` option loads this file, and the API
 * with it.
 */
export function openTelemetry(options: ResolvedTracingOptions): TaskTelemetryFactory {
  return (stats) => new OpenTelemetryTasks(new TaskSpans(options.parent), options.metrics ? new TaskMetrics(stats) : undefined);
}

class OpenTelemetryTasks implements TaskTelemetry {
  constructor(
    private readonly spans: TaskSpans,
    private readonly metrics: TaskMetrics | undefined,
  ) {}

  run(task: BackgroundTask, call: () => unknown): unknown {
    this.metrics?.started(task);
    return this.spans.run(task, call);
  }

  ended(task: BackgroundTask, detail: unknown): void {
    this.metrics?.ended(task);
    this.spans.ended(task, detail);
  }

  abandoned(task: BackgroundTask): void {
    this.spans.abandoned(task);
  }

  close(): void {
    this.metrics?.close();
  }
}
