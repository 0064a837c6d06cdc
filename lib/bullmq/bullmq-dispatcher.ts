import { Logger } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOGGER_CONTEXT } from '../background-tasks.constants.js';
import { ENQUEUE_FAILED, ENQUEUE_TIMED_OUT, QUEUE_NOT_CONNECTED } from '../background-tasks.messages.js';
import type { BackgroundTask } from '../core/background-task.js';
import type { TraceCarrier } from '../core/job-tracker.js';
import type { DispatchOutcome, TaskDispatcher } from '../core/task-dispatcher.js';
import type { TaskHandler } from '../core/task-handlers.js';
import { errorMessage } from '../utils/describe.js';
import type { ResolvedBullMQOptions } from './bullmq-options.js';
import { jobDataOf, type TaskQueue } from './job-data.js';

/** Tries of one enqueue, within `enqueueTimeout`, and the pause between them. */
const TRIES = 3;
const RETRY_DELAY = 50;

class EnqueueTimeout extends Error {}

/** Hands the tasks of handlers to a BullMQ queue, each within `enqueueTimeout`. */
export class BullMQDispatcher implements TaskDispatcher {
  readonly requireDurable: boolean;
  readonly onEnqueueFailure: ResolvedBullMQOptions['onEnqueueFailure'];
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** Each handler's job options, built once. */
  private readonly jobOptions = new WeakMap<TaskHandler, JobsOptions>();

  constructor(
    private readonly queue: TaskQueue,
    private readonly options: ResolvedBullMQOptions,
    /** Whether the queue's connection can take a command now; `add()` is not tried otherwise. */
    private readonly connected: () => boolean,
  ) {
    this.requireDurable = options.requireDurable;
    this.onEnqueueFailure = options.onEnqueueFailure;
  }

  async dispatch(task: BackgroundTask, trace?: TraceCarrier): Promise<DispatchOutcome> {
    const deadline = performance.now() + this.options.enqueueTimeout;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.add(task, trace, deadline);
        return 'enqueued';
      } catch (error) {
        if (error instanceof EnqueueTimeout || attempt === TRIES || deadline - performance.now() <= RETRY_DELAY) {
          this.logger.warn(ENQUEUE_FAILED(task.name, errorMessage(error), this.onEnqueueFailure));
          return 'failed';
        }
        await sleep(RETRY_DELAY);
      }
    }
  }

  /** Adds the task's job, or rejects: at once while disconnected, or at the deadline. */
  private add(task: BackgroundTask, trace: TraceCarrier | undefined, deadline: number): Promise<unknown> {
    if (!this.connected()) return Promise.reject(new Error(QUEUE_NOT_CONNECTED));
    const handler = task.handler!;
    let options = this.jobOptions.get(handler) ?? this.buildJobOptions(handler);
    if (task.givenName !== undefined) options = { ...options, deduplication: { id: task.givenName } };
    const added = this.queue.add(handler.name, jobDataOf(task, trace), options);
    const remaining = deadline - performance.now();
    if (remaining === Infinity) return added;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new EnqueueTimeout(ENQUEUE_TIMED_OUT(this.options.enqueueTimeout))), remaining);
      // A late answer, after the timeout, is no news.
      added.then(
        (job) => (clearTimeout(timer), resolve(job)),
        (error: unknown) => (clearTimeout(timer), reject(error as Error)),
      );
    });
  }

  private buildJobOptions(handler: TaskHandler): JobsOptions {
    const { attempts, backoff, priority, delay, removeOnComplete, removeOnFail } = handler.options;
    const given = { attempts, backoff, priority, delay, removeOnComplete, removeOnFail };
    const options = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as JobsOptions;
    this.jobOptions.set(handler, options);
    return options;
  }
}
