import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from './background-tasks.constants.js';
import type { HookName, ResolvedBackgroundTasksOptions } from './background-tasks.options.js';
import type { BackgroundTask } from './background-task.js';
import type { BackgroundTaskDropReason, BackgroundTaskEvent } from './interfaces/background-task-event.interface.js';
import { errorMessage } from './utils/describe.js';
import { isThenable } from './utils/is-thenable.js';

type EventDetails = Pick<BackgroundTaskEvent, 'duration' | 'error' | 'reason'>;

/**
 * Tells the logger and the lifecycle hooks what happens to tasks. Never
 * throws: a broken logger or hook must not stop other tasks.
 */
export class TaskReporter {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(private readonly options: ResolvedBackgroundTasksOptions) {}

  /** Calls the hook, if there is one. Builds no event otherwise. */
  emit(hook: HookName, task: BackgroundTask, details?: EventDetails): void {
    if (this.options[hook] !== undefined) this.call(hook, describeTask(task, details));
  }

  failed(task: BackgroundTask, error: unknown, duration: number): void {
    const event = describeTask(task, { duration, error });
    this.safely(() =>
      this.logger.error(
        `Background task "${event.name}" of ${event.method} ${event.path} failed: ${errorMessage(error)}`,
        error instanceof Error ? error.stack : undefined,
      ),
    );
    this.call('onTaskFailed', event);
  }

  timedOut(task: BackgroundTask, error: DOMException, duration: number): void {
    const event = describeTask(task, { duration, error });
    this.safely(() =>
      this.logger.error(`Background task "${event.name}" of ${event.method} ${event.path} timed out after ${task.timeout} ms.`),
    );
    this.call('onTaskTimedOut', event);
  }

  /** Overflow is worth a warning; the other reasons are the rules working as documented. */
  dropped(task: BackgroundTask, reason: BackgroundTaskDropReason): void {
    const event = describeTask(task, { reason });
    if (reason === 'overflow') {
      this.safely(() =>
        this.logger.warn(
          `Background task "${event.name}" of ${event.method} ${event.path} was dropped: the queue is full (maxQueued: ${this.options.maxQueued}).`,
        ),
      );
    }
    this.call('onTaskDropped', event);
  }

  warn(message: string): void {
    this.safely(() => this.logger.warn(message));
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
    this.safely(() =>
      this.logger.error(`${hook} threw: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined),
    );
  }

  private safely(log: () => void): void {
    try {
      log();
    } catch {
      // Nothing is left to report to.
    }
  }
}

function describeTask(task: BackgroundTask, details?: EventDetails): BackgroundTaskEvent {
  const { owner } = task;
  return { name: task.name, args: task.args, transport: owner.transport, method: owner.method, path: owner.path, ...details };
}
