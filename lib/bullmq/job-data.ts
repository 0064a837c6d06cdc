import type { IQueueBackend, Queue, Worker } from 'bullmq';
import {
  MALFORMED_JOB,
  MUST_BE_ARRAY,
  MUST_BE_CARRIER,
  MUST_BE_NAME,
  MUST_BE_OBJECT,
  MUST_BE_TIMESTAMP,
  MUST_BE_TRUE,
} from '../background-tasks.messages.js';
import type { Task } from '../core/task.js';
import type { TraceCarrier } from '../core/job-tracker.js';
import { checkTimeout } from '../core/runner-options.js';

/**
 * What a job carries: the task's arguments and how to call the handler,
 * nothing of the request. The job's name is the handler's. Workers check
 * these fields (`checkJobData()`) and ignore fields they do not know, so
 * later versions can add some without breaking older workers.
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
  /** When a worker without its handler first handed the job back (`Date.now()`): see `handBack()`. */
  readonly handedBackAt?: number;
  readonly [field: string]: unknown;
}

export function jobDataOf(task: Task, trace: TraceCarrier | undefined): JobData {
  const data: { -readonly [K in keyof JobData]: JobData[K] } = { args: task.args };
  if (task.takesContext) data.context = true;
  if (task.givenName !== undefined) data.name = task.givenName;
  if (task.timeout !== Infinity) data.timeout = task.timeout;
  if (trace !== undefined) data.trace = trace;
  return data;
}

/**
 * The job's data, as a worker reads it from the store, where anything could
 * be: each field of the format is checked, fields it does not know are
 * ignored (a later version may add some).
 *
 * @throws {TypeError} naming the first malformed field and what it holds.
 */
export function checkJobData(job: string, data: unknown): JobData {
  const malformed = (field: string | undefined, problem: string) => new TypeError(MALFORMED_JOB(job, field, problem));
  if (!isObject(data)) throw malformed(undefined, MUST_BE_OBJECT(data));
  const { args, context, name, timeout, trace, handedBackAt } = data as JobData;
  if (!Array.isArray(args)) throw malformed('args', MUST_BE_ARRAY(args));
  if (context !== undefined && context !== true) throw malformed('context', MUST_BE_TRUE(context));
  if (name !== undefined && (typeof name !== 'string' || name === '')) throw malformed('name', MUST_BE_NAME(name));
  // The check of addTaskWithOptions(): a timeout that timers could not wait would fire at once.
  if (timeout !== undefined) checkTimeout(timeout, (problem) => MALFORMED_JOB(job, 'timeout', problem));
  if (trace !== undefined && !isCarrier(trace)) throw malformed('trace', MUST_BE_CARRIER(trace));
  if (handedBackAt !== undefined && !(Number.isFinite(handedBackAt) && handedBackAt >= 0)) {
    throw malformed('handedBackAt', MUST_BE_TIMESTAMP(handedBackAt));
  }
  return data as JobData;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A W3C trace context, or whatever the app's propagator wrote: a flat object of strings. */
function isCarrier(value: unknown): value is TraceCarrier {
  return isObject(value) && Object.values(value).every((field) => typeof field === 'string');
}

/** The module's queue and worker, on any backend (Redis, or PostgreSQL). */
export type TaskQueue = Queue<JobData, void, string, JobData, void, string, IQueueBackend>;
export type TaskWorker = Worker<JobData, void, string, IQueueBackend>;
