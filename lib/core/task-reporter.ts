import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../background-tasks.constants.js';
import {
  HOOK_THREW,
  OVERFLOW_SUMMARY,
  TASK_DROPPED_OVERFLOW,
  TASK_FAILED,
  TASK_OVERDUE,
  TASK_TIMED_OUT,
} from '../background-tasks.messages.js';
import type { BackgroundTaskDropReason, BackgroundTaskEvent } from '../interfaces/background-task-event.interface.js';
import { errorMessage } from '../utils/describe.js';
import { isThenable } from '../utils/is-thenable.js';
import type { Task } from './task.js';
import type { HookName, ResolvedBackgroundTasksOptions } from './runner-options.js';

type EventDetails = Pick<BackgroundTaskEvent, 'duration' | 'error' | 'reason'>;

/**
 * Tells the logger and the lifecycle hooks what happens to tasks. Never
 * throws: a broken logger or hook must not stop other tasks.
 */
export class TaskReporter {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** Overflow drops not logged one by one: the first of a burst is, then one summary a second. */
  private unloggedDrops = 0;
  private dropWindow?: NodeJS.Timeout;

  constructor(private readonly options: ResolvedBackgroundTasksOptions) {}

  /** Calls the hook, if there is one. Builds no event otherwise. */
  emit(hook: HookName, task: Task, details?: EventDetails): void {
    if (this.options[hook] !== undefined) this.call(hook, describeTask(task, details));
  }

  failed(task: Task, error: unknown, duration: number): void {
    const event = describeTask(task, { duration, error });
    const stack = error instanceof Error ? error.stack : undefined;
    this.safely(() => this.logger.error(TASK_FAILED(event.name, event.method, event.path, errorMessage(error)), stack));
    this.call('onTaskFailed', event);
  }

  timedOut(task: Task, error: DOMException, duration: number): void {
    const event = describeTask(task, { duration, error });
    this.safely(() => this.logger.error(TASK_TIMED_OUT(event.name, event.method, event.path, task.timeout)));
    this.call('onTaskTimedOut', event);
  }

  /** It timed out, and its body goes on in its slot: named, so that it can be made to honour its signal. */
  overdue(task: Task): void {
    const { method, path } = task.batch.owner.origin;
    this.warn(TASK_OVERDUE(task.name, method, path, task.takesContext, this.options.concurrency));
  }

  /** Overflow is worth a warning; the other reasons are the rules working as documented. */
  dropped(task: Task, reason: BackgroundTaskDropReason): void {
    const event = describeTask(task, { reason });
    if (reason === 'overflow') this.overflowed(event);
    this.call('onTaskDropped', event);
  }

  /** Calls the hook with an event built elsewhere (a worker's job). */
  report(hook: HookName, event: BackgroundTaskEvent): void {
    this.call(hook, event);
  }

  error(message: string, error: unknown): void {
    const stack = error instanceof Error ? error.stack : undefined;
    this.safely(() => this.logger.error(message, stack));
  }

  warn(message: string): void {
    this.safely(() => this.logger.warn(message));
  }

  log(message: string): void {
    this.safely(() => this.logger.log(message));
  }

  /** Logs the summary of drops not logged yet, if any. */
  flush(): void {
    clearTimeout(this.dropWindow);
    this.dropWindow = undefined;
    if (this.unloggedDrops === 0) return;
    this.warn(OVERFLOW_SUMMARY(this.unloggedDrops, this.options.maxQueued));
    this.unloggedDrops = 0;
    // Drops go on: the next second is summarised too.
    this.openDropWindow();
  }

  /** Under overload, one line per drop would flood the log. */
  private overflowed(event: BackgroundTaskEvent): void {
    if (this.dropWindow !== undefined) {
      this.unloggedDrops++;
      return;
    }
    this.warn(TASK_DROPPED_OVERFLOW(event.name, event.method, event.path, this.options.maxQueued));
    this.openDropWindow();
  }

  private openDropWindow(): void {
    this.dropWindow = setTimeout(() => this.flush(), 1000);
    this.dropWindow.unref();
  }

  private call(hook: HookName, event: BackgroundTaskEvent): void {
    const fn = this.options[hook];
    if (fn === undefined) return;
    try {
      const result = fn(event);
      if (isThenable(result)) result.then(undefined, (error) => this.hookFailed(hook, error));
    } catch (error) {
      this.hookFailed(hook, error);
    }
  }

  private hookFailed(hook: HookName, error: unknown): void {
    const stack = error instanceof Error ? error.stack : undefined;
    this.safely(() => this.logger.error(HOOK_THREW(hook, errorMessage(error)), stack));
  }

  private safely(log: () => void): void {
    try {
      log();
    } catch {
      // Nothing is left to report to.
    }
  }
}

function describeTask(task: Task, details?: EventDetails): BackgroundTaskEvent {
  const { transport, method, path } = task.batch.owner.origin;
  return { name: task.name, args: task.args, transport, method, path, ...details };
}
