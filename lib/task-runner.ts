import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { LOGGER_CONTEXT } from './background-tasks.constants.js';
import { BACKGROUND_TASKS_MODULE_OPTIONS } from './background-tasks.module-definition.js';
import { resolveOptions, type ResolvedBackgroundTasksOptions } from './background-tasks.options.js';
import type { BackgroundTask, BackgroundTasks } from './background-tasks.service.js';
import type { BackgroundTaskInfo } from './interfaces/background-task-info.interface.js';
import type { BackgroundTasksModuleOptions } from './interfaces/background-tasks-module-options.interface.js';

/**
 * Runs the tasks of finished requests: each request's tasks one after
 * another, different requests side by side. Keeps track of what is running
 * so that shutdown, and {@link BackgroundTaskRunner.whenIdle}, can wait for it.
 */
@Injectable()
export class BackgroundTaskRunner implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly options: ResolvedBackgroundTasksOptions;
  private readonly active = new Set<BackgroundTasks>();
  private idleWaiters: Array<() => void> = [];
  private shutdownDeadline?: number;

  constructor(@Optional() @Inject(BACKGROUND_TASKS_MODULE_OPTIONS) options?: BackgroundTasksModuleOptions) {
    this.options = resolveOptions(options);
  }

  /**
   * Resolves once no background task is running or queued. Tasks of requests
   * whose responses are still being sent are not counted yet.
   *
   * @example
   * ```ts
   * // A provider whose resource tasks use, closed before the runner drains:
   * async onModuleDestroy() {
   *   await this.runner.whenIdle();
   *   await this.client.close();
   * }
   * ```
   */
  whenIdle(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** @internal Works through the request's queue, including tasks added meanwhile. */
  run(tasks: BackgroundTasks): void {
    tasks.runner = this;
    if (tasks.running || tasks.queue.length === 0) return;
    tasks.running = true;
    this.active.add(tasks);
    void this.drain(tasks);
  }

  /** Never rejects: every task error is caught and reported. */
  private async drain(tasks: BackgroundTasks): Promise<void> {
    try {
      for (let task = tasks.queue.shift(); task !== undefined; task = tasks.queue.shift()) {
        tasks.current = task;
        try {
          const result = (task.fn as (...args: unknown[]) => unknown)(...task.args);
          if (isThenable(result)) await result;
        } catch (error) {
          this.reportSafely(error, task, tasks);
        }
      }
    } finally {
      tasks.current = undefined;
      tasks.running = false;
      this.active.delete(tasks);
      if (this.active.size === 0) this.notifyIdle();
    }
  }

  private reportSafely(error: unknown, task: BackgroundTask, tasks: BackgroundTasks): void {
    try {
      this.report(error, task, tasks);
    } catch {
      // A logger that throws must not stop the request's other tasks.
    }
  }

  private report(error: unknown, task: BackgroundTask, tasks: BackgroundTasks): void {
    const info: BackgroundTaskInfo = { name: taskName(task), args: task.args, method: tasks.method, path: tasks.path };
    this.logger.error(
      `Background task "${info.name}" of ${info.method} ${info.path} failed: ${errorMessage(error)}`,
      error instanceof Error ? error.stack : undefined,
    );
    const { onTaskError } = this.options;
    if (onTaskError === undefined) return;
    try {
      const result = onTaskError(error, info);
      if (isThenable(result)) result.then(undefined, (hookError) => this.reportHookErrorSafely(hookError));
    } catch (hookError) {
      this.reportHookErrorSafely(hookError);
    }
  }

  private reportHookErrorSafely(error: unknown): void {
    try {
      this.logger.error(`onTaskError threw: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined);
    } catch {
      // Nothing is left to report to.
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Nest runs this phase on global modules last, but still before any
    // onApplicationShutdown hook: drain here, ahead of those.
    await this.waitForIdle();
  }

  async onApplicationShutdown(): Promise<void> {
    // The HTTP server has closed: drain the tasks of requests that were still in flight.
    const idle = await this.waitForIdle();
    this.shutdownDeadline = undefined;
    if (!idle) {
      this.logger.warn(
        `Shutdown timeout of ${this.options.shutdownTimeout} ms expired; running tasks are left to finish, queued ones are dropped: ${this.abandonUnfinished()}`,
      );
    }
  }

  /** Resolves `true` once no task runs, or `false` at the shutdown deadline. */
  private async waitForIdle(): Promise<boolean> {
    this.shutdownDeadline ??= Date.now() + this.options.shutdownTimeout;
    if (this.active.size === 0) return true;
    const idle = this.whenIdle().then(() => true as const);
    const remaining = this.shutdownDeadline - Date.now();
    if (remaining === Infinity) return idle;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, remaining), false);
    });
    try {
      return await Promise.race([idle, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Names what is still running, and drops what is queued: the app is going away. */
  private abandonUnfinished(): string {
    const entries: string[] = [];
    for (const tasks of this.active) {
      const request = `${tasks.method} ${tasks.path}`;
      if (tasks.current) entries.push(`"${taskName(tasks.current)}" (running, ${request})`);
      for (const task of tasks.queue) entries.push(`"${taskName(task)}" (queued, ${request})`);
      tasks.queue.length = 0;
    }
    return entries.join(', ');
  }
}

function taskName(task: BackgroundTask): string {
  return task.fn.name || 'anonymous';
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    // Objects without a prototype cannot become strings.
    return Object.prototype.toString.call(error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}
