import { Logger } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { LOGGER_CONTEXT } from '../background-tasks.constants.js';
import { ENQUEUE_FAILED, ENQUEUE_TIMED_OUT, QUEUE_NOT_CONNECTED } from '../background-tasks.messages.js';
import type { BackgroundTask } from '../core/background-task.js';
import type { DispatchOutcome, TaskDispatcher } from '../core/task-dispatcher.js';
import type { TaskHandler } from '../core/task-handlers.js';
import { errorMessage } from '../utils/describe.js';
import type { ResolvedBullMQOptions } from './bullmq-options.js';
import { jobDataOf, type TaskQueue } from './job-data.js';

/** Tries of one enqueue, within `enqueueTimeout`, and the pause between them. */
const TRIES = 3;
const RETRY_DELAY = 50;

class EnqueueTimeout extends Error {}

/** An `add()` waiting for its answer; it fails at its deadline if none came. */
interface PendingAdd {
  readonly deadline: number;
  readonly fail: (error: Error) => void;
}

/**
 * Hands the tasks of handlers to a BullMQ queue, each within `enqueueTimeout`.
 * One timer, set for the earliest deadline, watches every pending `add()`:
 * a timer per job would cost more than the check of its arguments.
 */
export class BullMQDispatcher implements TaskDispatcher {
  readonly requireDurable: boolean;
  readonly onEnqueueFailure: ResolvedBullMQOptions['onEnqueueFailure'];
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** Each handler's job options, built once. */
  private readonly jobOptions = new WeakMap<TaskHandler, JobsOptions>();
  /** Removed when its answer or its deadline comes, whichever is first: the other is then no news. */
  private readonly pending = new Set<PendingAdd>();
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;

  constructor(
    private readonly queue: TaskQueue,
    private readonly options: ResolvedBullMQOptions,
    /** Whether the queue's connection can take a command now; `add()` is not tried otherwise. */
    private readonly connected: () => boolean,
  ) {
    this.requireDurable = options.requireDurable;
    this.onEnqueueFailure = options.onEnqueueFailure;
  }

  dispatch(task: BackgroundTask): Promise<DispatchOutcome> {
    const deadline = performance.now() + this.options.enqueueTimeout;
    return new Promise((resolve) => this.add(task, deadline, 1, resolve));
  }

  /** Adds the task's job: tries again after a failure, briefly, or gives up at the deadline. */
  private add(task: BackgroundTask, deadline: number, attempt: number, done: (outcome: DispatchOutcome) => void): void {
    const fail = (error: Error) => {
      if (error instanceof EnqueueTimeout || attempt === TRIES || deadline - performance.now() <= RETRY_DELAY) {
        this.logger.warn(ENQUEUE_FAILED(task.name, errorMessage(error), this.onEnqueueFailure));
        done('failed');
      } else {
        setTimeout(() => this.add(task, deadline, attempt + 1, done), RETRY_DELAY);
      }
    };
    if (!this.connected()) return fail(new Error(QUEUE_NOT_CONNECTED));
    const handler = task.handler!;
    let options = this.jobOptions.get(handler) ?? this.buildJobOptions(handler);
    if (task.givenName !== undefined) options = { ...options, deduplication: { id: task.givenName } };
    const added = this.queue.add(handler.name, jobDataOf(task), options);
    if (deadline === Infinity) {
      added.then(() => done('enqueued'), fail);
      return;
    }
    const pending: PendingAdd = { deadline, fail };
    this.pending.add(pending);
    this.watch(deadline);
    added.then(
      () => this.pending.delete(pending) && done('enqueued'),
      (error: Error) => this.pending.delete(pending) && fail(error),
    );
  }

  /** Sets the timer for this deadline, unless it goes off before. */
  private watch(deadline: number): void {
    if (deadline >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = deadline;
    // A pending add() holds the process open through its connection; the timer alone need not.
    this.timer = setTimeout(() => this.expire(), deadline - performance.now()).unref();
  }

  /** Fails the adds past their deadline, and watches the next deadline. */
  private expire(): void {
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const pending of this.pending) {
      if (pending.deadline > now) {
        next = Math.min(next, pending.deadline);
      } else {
        this.pending.delete(pending);
        pending.fail(new EnqueueTimeout(ENQUEUE_TIMED_OUT(this.options.enqueueTimeout)));
      }
    }
    if (next !== Infinity) this.watch(next);
  }

  private buildJobOptions(handler: TaskHandler): JobsOptions {
    const { attempts, backoff, priority, delay, removeOnComplete, removeOnFail } = handler.options;
    const given = { attempts, backoff, priority, delay, removeOnComplete, removeOnFail };
    const options = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as JobsOptions;
    this.jobOptions.set(handler, options);
    return options;
  }
}
