import { JOB_ATTEMPT_FAILED, JOB_FAILED, JOB_OVERDUE } from '../background-tasks.messages.js';
import type { BackgroundTaskEvent } from '../interfaces/background-task-event.interface.js';
import type { BackgroundTaskJobStats } from '../interfaces/background-task-job-stats.interface.js';
import { errorMessage } from '../utils/describe.js';
import type { TaskReporter } from './task-reporter.js';

type Counters = { -readonly [K in keyof BackgroundTaskJobStats]: BackgroundTaskJobStats[K] };

/** One attempt of a job that a worker of this process runs. */
export interface JobRun {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly id: string;
  readonly queue: string;
  readonly attempt: number;
  readonly attempts: number;
  /** When the job was enqueued (`Date.now()` of the process that added it). */
  readonly enqueuedAt: number;
  /** Set by the tracker when it starts: a job that never started (unknown handler) did not count as running. */
  startedAt?: number;
  /** What the telemetry, when there is one, keeps of the attempt while it runs (its span). Only the telemetry reads it. */
  observed?: unknown;
}

/** A W3C trace context (`traceparent`, `tracestate`), or whatever the app's propagator writes: what a job carries. */
export type TraceCarrier = Readonly<Record<string, string>>;

/** What the telemetry does around the attempts of jobs that a worker runs here. */
export interface JobTelemetry {
  /**
   * Runs the attempt inside its span, related to the span that `carrier`
   * (from the process that added the job) names, if any.
   */
  runJob(run: JobRun, carrier: TraceCarrier | undefined, call: () => Promise<void>): Promise<void>;
  /** The attempt has ended: it failed with `error` unless `succeeded`. */
  jobEnded(run: JobRun, succeeded: boolean, error?: unknown): void;
  /** Shutdown aborted the attempt: the job goes back to the queue. */
  jobAbandoned(run: JobRun): void;
}

/**
 * The counters, hooks and logs of queued jobs: tasks this process
 * dispatched, and jobs its worker runs, apart from the in-process tasks
 * so that nothing is counted twice.
 */
export class JobTracker {
  private counters?: Counters;
  private noneRunning: (() => void)[] = [];

  constructor(
    private readonly reporter: TaskReporter,
    /** With the `tracing` option only: without it, the tracker calls nothing more. */
    private readonly telemetry?: JobTelemetry,
  ) {}

  /** Turns the `jobs` block of `stats()` on: a queue backend is configured. */
  enable(): void {
    this.counters ??= { dispatched: 0, running: 0, overdue: 0, succeeded: 0, failed: 0, retried: 0 };
  }

  stats(): BackgroundTaskJobStats | undefined {
    return this.counters && { ...this.counters };
  }

  dispatched(): void {
    this.counters!.dispatched++;
  }

  started(run: JobRun): void {
    run.startedAt = performance.now();
    this.counters!.running++;
    this.reporter.report('onTaskStarted', eventOf(run));
  }

  /** Calls the handler of a started attempt, inside its span with `tracing` on. */
  run(run: JobRun, carrier: TraceCarrier | undefined, call: () => Promise<void>): Promise<void> {
    const telemetry = this.telemetry;
    return telemetry === undefined ? call() : telemetry.runJob(run, carrier, call);
  }

  /** Resolves once no job runs in this process, overdue ones included: none holds a worker's slot. */
  whenNoneRunning(): Promise<void> {
    if (this.busy() === 0) return Promise.resolve();
    return new Promise((resolve) => this.noneRunning.push(resolve));
  }

  succeeded(run: JobRun): void {
    this.stopped();
    this.counters!.succeeded++;
    this.reporter.report('onTaskSucceeded', eventOf(run, { duration: performance.now() - run.startedAt! }));
    this.telemetry?.jobEnded(run, true);
  }

  /** Shutdown aborted a running attempt, which `failed()` then reports as one to retry. */
  abandoned(run: JobRun): void {
    this.telemetry?.jobAbandoned(run);
  }

  /** A failed attempt: the last one unless `willRetry`. Logged and reported apart. */
  failed(run: JobRun, error: unknown, willRetry: boolean): void {
    const counters = this.counters!;
    const duration = run.startedAt === undefined ? 0 : performance.now() - run.startedAt;
    if (run.startedAt !== undefined) this.stopped();
    if (willRetry) counters.retried++;
    else counters.failed++;
    const message = (willRetry ? JOB_ATTEMPT_FAILED : JOB_FAILED)(
      run.name,
      run.id,
      run.attempt,
      run.attempts,
      errorMessage(error),
    );
    this.reporter.error(message, error);
    this.reporter.report('onTaskFailed', eventOf(run, { duration, error }, willRetry));
    this.telemetry?.jobEnded(run, false, error);
  }

  /**
   * A failed attempt whose handler has not returned: it timed out after
   * `timeout` ms, or was cancelled. Its job keeps its slot until `returned()`.
   */
  overdue(run: JobRun, timeout: number | undefined): void {
    this.counters!.overdue++;
    this.reporter.warn(JOB_OVERDUE(run.name, run.id, timeout));
  }

  /** The handler of an overdue attempt has returned, or shutdown gave up on it: its slot is free. */
  returned(): void {
    this.counters!.overdue--;
    this.freed();
  }

  private stopped(): void {
    this.counters!.running--;
    this.freed();
  }

  private busy(): number {
    return this.counters === undefined ? 0 : this.counters.running + this.counters.overdue;
  }

  private freed(): void {
    if (this.busy() > 0 || this.noneRunning.length === 0) return;
    const waiters = this.noneRunning;
    this.noneRunning = [];
    for (const resolve of waiters) resolve();
  }
}

function eventOf(
  run: JobRun,
  details?: Pick<BackgroundTaskEvent, 'duration' | 'error'>,
  willRetry?: boolean,
): BackgroundTaskEvent {
  const { id, attempt, attempts } = run;
  return {
    name: run.name,
    args: run.args,
    transport: 'job',
    method: 'JOB',
    path: run.queue,
    ...details,
    job: willRetry === undefined ? { id, attempt, attempts } : { id, attempt, attempts, willRetry },
  };
}
