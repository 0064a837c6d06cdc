import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../background-tasks.constants.js';
import { TELEMETRY_THREW } from '../background-tasks.messages.js';
import type { Task } from '../core/task.js';
import type { JobRun, TraceCarrier } from '../core/job-tracker.js';
import type { ResolvedTracingOptions } from '../core/runner-options.js';
import type { TaskTelemetry, TaskTelemetryFactory } from '../core/task-telemetry.js';
import { errorMessage } from '../utils/describe.js';
import { JobSpans } from './job-spans.js';
import { TaskMetrics } from './task-metrics.js';
import { TaskSpans } from './task-spans.js';

/**
 * The runner's telemetry through `@opentelemetry/api`: spans, and metrics
 * unless turned off. Only the `tracing` option loads this file, and the API
 * with it.
 */
export function openTelemetry(options: ResolvedTracingOptions): TaskTelemetryFactory {
  return (stats) =>
    new OpenTelemetryTasks(
      new TaskSpans(options.parent),
      new JobSpans(options.parent),
      options.metrics ? new TaskMetrics(stats) : undefined,
    );
}

/**
 * Never throws into the runner: the API does not, but an SDK's span
 * processors, exporters and readers are code too, and a failure of theirs
 * must not fail a task, or leave the runner's bookkeeping half done.
 */
class OpenTelemetryTasks implements TaskTelemetry {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private threw = false;

  constructor(
    private readonly spans: TaskSpans,
    private readonly jobs: JobSpans,
    private readonly metrics: TaskMetrics | undefined,
  ) {}

  run(task: Task, call: () => unknown): unknown {
    this.safely(() => this.metrics?.started(task));
    return this.around((inner) => this.spans.run(task, inner), call);
  }

  carrier(task: Task): TraceCarrier | undefined {
    try {
      return task.inAsyncContext(() => this.jobs.carrier());
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  runJob(run: JobRun, carrier: TraceCarrier | undefined, call: () => Promise<void>): Promise<void> {
    return this.around((inner) => this.jobs.run(run, carrier, inner), call);
  }

  jobEnded(run: JobRun, succeeded: boolean, error?: unknown): void {
    this.safely(() => this.jobs.ended(run, succeeded, error));
  }

  jobAbandoned(run: JobRun): void {
    this.safely(() => this.jobs.abandoned(run));
  }

  ended(task: Task, detail: unknown): void {
    this.safely(() => this.metrics?.ended(task));
    this.safely(() => this.spans.ended(task, detail));
  }

  abandoned(task: Task): void {
    this.safely(() => this.spans.abandoned(task));
  }

  close(): void {
    this.safely(() => this.metrics?.close());
  }

  /** Calls `call` within `wrap` (its span); without it if `wrap` throws before calling it. */
  private around<T>(wrap: (inner: () => T) => T, call: () => T): T {
    let called = false;
    try {
      return wrap(() => {
        called = true;
        return call();
      });
    } catch (error) {
      // What the call threw is the caller's to report.
      if (called) throw error;
      this.failed(error);
      return call();
    }
  }

  private safely(report: () => void): void {
    try {
      report();
    } catch (error) {
      this.failed(error);
    }
  }

  /** Logs the first failure only: a broken exporter would fail for every task. */
  private failed(error: unknown): void {
    if (this.threw) return;
    this.threw = true;
    const stack = error instanceof Error ? error.stack : undefined;
    try {
      this.logger.error(TELEMETRY_THREW(errorMessage(error)), stack);
    } catch {
      // Nothing is left to report to.
    }
  }
}
