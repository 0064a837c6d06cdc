import { Logger } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { LOGGER_CONTEXT } from '../background-tasks.constants.js';
import {
  ENQUEUE_FAILED,
  ENQUEUE_TIMED_OUT,
  NOT_DURABLE,
  NOT_SERIALISABLE,
  QUEUE_NOT_CONNECTED,
} from '../background-tasks.messages.js';
import type { Task } from '../core/task.js';
import type { TraceCarrier } from '../core/job-tracker.js';
import type { DispatchOutcome, TaskDispatcher } from '../core/task-dispatcher.js';
import type { TaskHandler } from '../core/task-handlers.js';
import { errorMessage } from '../utils/describe.js';
import { findUnserialisable } from '../utils/find-unserialisable.js';
import type { ResolvedBullMQOptions } from './bullmq-options.js';
import { type Deadlined, EnqueueDeadlines } from './enqueue-deadlines.js';
import { jobDataOf } from './job-data.js';
import type { ModuleQueue } from './bullmq-internals.js';

/** Tries of one enqueue, within `enqueueTimeout`, and the pause between them. */
const TRIES = 3;
const RETRY_DELAY = 50;

/**
 * Hands the tasks of handlers to a BullMQ queue, each within
 * `enqueueTimeout`. It runs once per durable task, beside a `queue.add()`
 * it must cost little against: one promise and no timer of its own per task.
 */
export class BullMQDispatcher implements TaskDispatcher {
  /** Closures are an error at `addTask()`: every task must be a handler's. */
  private readonly requireDurable: boolean;
  readonly onEnqueueFailure: ResolvedBullMQOptions['onEnqueueFailure'];
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly deadlines = new EnqueueDeadlines<Enqueue>((enqueue) =>
    this.fail(enqueue, ENQUEUE_TIMED_OUT(this.options.enqueueTimeout)),
  );
  /** Each handler's job options, built once. */
  private readonly jobOptions = new WeakMap<TaskHandler, JobsOptions>();

  constructor(
    private readonly queue: Pick<ModuleQueue, 'addUntraced'>,
    private readonly options: ResolvedBullMQOptions,
    /** Whether the queue's connection can take a command now; `add()` is not tried otherwise. */
    private readonly connected: () => boolean,
  ) {
    this.requireDurable = options.requireDurable;
    this.onEnqueueFailure = options.onEnqueueFailure;
  }

  admit(task: Task): void {
    if (task.handler === undefined) {
      if (this.requireDurable) throw new TypeError(NOT_DURABLE(task.name));
      return;
    }
    for (let i = 0; i < task.args.length; i++) {
      const found = findUnserialisable(task.args[i]);
      if (found !== undefined) throw new TypeError(NOT_SERIALISABLE(task.name, i + 1, found.path, found.what));
    }
  }

  dispatch(task: Task, trace?: TraceCarrier): Promise<DispatchOutcome> {
    return new Promise((decide) => {
      const enqueue = new Enqueue(task, trace, performance.now() + this.options.enqueueTimeout, decide);
      this.tryAdd(enqueue);
      if (!enqueue.decided && enqueue.deadline !== Infinity) this.deadlines.watch(enqueue);
    });
  }

  /** One try: decides the enqueue when the job is added, or tries again. */
  private tryAdd(enqueue: Enqueue): void {
    if (enqueue.decided) return;
    try {
      if (!this.connected()) return this.retry(enqueue, QUEUE_NOT_CONNECTED);
      const task = enqueue.task!;
      const handler = task.handler!;
      let options = this.jobOptions.get(handler) ?? this.buildJobOptions(handler);
      if (task.givenName !== undefined) options = { ...options, deduplication: { id: task.givenName } };
      this.queue.addUntraced(handler.name, jobDataOf(task, enqueue.trace), options).then(
        () => enqueue.decide('enqueued'),
        (error: unknown) => this.retry(enqueue, errorMessage(error)),
      );
    } catch (error) {
      // Thrown in dispatch()'s executor or a retry's timer: a failed try like any, or the task's enqueue would never be decided.
      this.retry(enqueue, errorMessage(error));
    }
  }

  /** Gives the enqueue up, with the reason in the log. A late answer, after that, is no news. */
  private fail(enqueue: Enqueue, reason: string): void {
    if (enqueue.decided) return;
    const { name } = enqueue.task!;
    enqueue.decide('failed');
    this.logger.warn(ENQUEUE_FAILED(name, reason, this.onEnqueueFailure));
  }

  private retry(enqueue: Enqueue, reason: string): void {
    if (enqueue.tries === TRIES || enqueue.deadline - performance.now() <= RETRY_DELAY) return this.fail(enqueue, reason);
    enqueue.tries++;
    setTimeout(() => this.tryAdd(enqueue), RETRY_DELAY);
  }

  private buildJobOptions(handler: TaskHandler): JobsOptions {
    const { attempts, backoff, priority, delay, removeOnComplete, removeOnFail } = handler.options;
    const given = { attempts, backoff, priority, delay, removeOnComplete, removeOnFail };
    const options = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as JobsOptions;
    this.jobOptions.set(handler, options);
    return options;
  }
}

/**
 * One task's way into the queue: its tries, and the deadline they share.
 * The deadline watch, and an add that never answers, may hold it after it
 * is decided: it lets go of the task (and its arguments) then.
 */
class Enqueue implements Deadlined {
  tries = 1;
  decided = false;

  constructor(
    /** Until it is decided; read only by a try, which starts on a pending enqueue. */
    public task: Task | undefined,
    public trace: TraceCarrier | undefined,
    readonly deadline: number,
    private readonly resolve: (outcome: DispatchOutcome) => void,
  ) {}

  decide(outcome: DispatchOutcome): void {
    if (this.decided) return;
    this.decided = true;
    this.task = this.trace = undefined;
    this.resolve(outcome);
  }
}
