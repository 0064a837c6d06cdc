import type { IQueueBackend, Queue, Worker } from 'bullmq';
import type { BackgroundTask } from '../core/background-task.js';
import type { TraceCarrier } from '../core/job-tracker.js';

/**
 * What a job carries: the task's arguments and how to call the handler,
 * nothing of the request. The job's name is the handler's. Workers ignore
 * fields they do not know, so later versions can add some without breaking
 * older workers.
 */
export interface JobData {
  readonly args: readonly unknown[];
  /** Added with `addTaskWithOptions()`: the handler takes a context first. */
  readonly context?: true;
  /** The task's `name` option, which the context reports. */
  readonly name?: string;
  /** The task's timeout, enforced by the worker. */
  readonly timeout?: number;
  /** With `tracing` on: the trace context of the code that added the task, which the worker's span relates to. */
  readonly trace?: TraceCarrier;
  readonly [field: string]: unknown;
}

export function jobDataOf(task: BackgroundTask, trace: TraceCarrier | undefined): JobData {
  const data: { -readonly [K in keyof JobData]: JobData[K] } = { args: task.args };
  if (task.takesContext) data.context = true;
  if (task.givenName !== undefined) data.name = task.givenName;
  if (task.timeout !== Infinity) data.timeout = task.timeout;
  if (trace !== undefined) data.trace = trace;
  return data;
}

/** The job's trace context, if it carries a well-formed one: a flat object of strings. */
export function traceOf(data: JobData): TraceCarrier | undefined {
  const { trace } = data;
  if (typeof trace !== 'object' || trace === null || Array.isArray(trace)) return undefined;
  return Object.values(trace).every((value) => typeof value === 'string') ? trace : undefined;
}

/** Job data from a worker's point of view: anything could be in Redis. */
export function isJobData(data: unknown): data is JobData {
  return typeof data === 'object' && data !== null && Array.isArray((data as JobData).args);
}

/** The module's queue and worker, on any backend (Redis, or PostgreSQL). */
export type TaskQueue = Queue<JobData, void, string, JobData, void, string, IQueueBackend>;
export type TaskWorker = Worker<JobData, void, string, IQueueBackend>;
