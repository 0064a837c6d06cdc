import type { ThreadTask } from '../threads/thread-task.js';
import { Injectable } from '@nestjs/common';
import type { BackgroundTaskContext } from '../interfaces/background-task-context.interface.js';
import type { BackgroundTaskOptions } from '../interfaces/background-task-options.interface.js';
import { RequestBackgroundTasks } from './request-background-tasks.js';
import type { TaskOrigin } from './task-owner.js';
import { TaskRunner } from './task-runner.js';

/** Events and logs name the app's own tasks so: no transport, method or path. */
const APP_ORIGIN: TaskOrigin = { transport: 'none', method: '', path: '' };

/**
 * The app's own background tasks, for code that has no request: `@Cron()`
 * jobs, `@OnEvent()` listeners, `onApplicationBootstrap()`, CLI commands.
 * A singleton, unlike the per-request {@link BackgroundTasks}: there is no
 * response to wait for, so each task starts as soon as the runner has a slot,
 * in the async context of its caller, and never blocks it. Tasks count in
 * `stats()`, obey `concurrency`, `maxQueued` and `overflow`, and are drained
 * by `app.close()` like any other.
 *
 * @example
 * ```ts
 * @Cron(CronExpression.EVERY_HOUR)
 * refresh() {
 *   this.tasks.addTaskWithOptions({ name: 'refresh-rates' }, ({ signal }) => this.rates.refresh({ signal }));
 * }
 * ```
 */
@Injectable()
export class AppBackgroundTasks {
  private readonly tasks: AppTasks;

  constructor(runner: TaskRunner) {
    this.tasks = tasksOf(runner);
  }

  /**
   * Runs `fn(...args)` as soon as the runner has a slot. The arguments are
   * type-checked against `fn`'s parameters.
   *
   * @throws {TypeError} when `fn` is not a function.
   * @throws {BackgroundTasksOverflowException} when `maxQueued` tasks are already waiting and `overflow` is `'reject'`.
   */
  addTask<Args extends unknown[]>(fn: ((...args: Args) => unknown) | ThreadTask<Args>, ...args: NoInfer<Args>): void {
    this.tasks.addTask(fn, ...args);
  }

  /**
   * Like {@link addTask}, with a `name` and a `timeout`; `fn` receives a
   * {@link BackgroundTaskContext} (its abort signal and name) before `args`.
   * A task added with the name of a task still queued replaces it, so a job
   * that fires again before its task started does not queue the work twice.
   *
   * @throws {TypeError} when `fn` is not a function, or an option is invalid.
   * @throws {BackgroundTasksOverflowException} when `maxQueued` tasks are already waiting and `overflow` is `'reject'`.
   */
  addTaskWithOptions<Args extends unknown[]>(
    options: Pick<BackgroundTaskOptions, 'name' | 'timeout'>,
    fn: ((context: BackgroundTaskContext, ...args: Args) => unknown) | ThreadTask<Args>,
    ...args: NoInfer<Args>
  ): void {
    this.tasks.addTaskWithOptions(options, fn, ...args);
  }

  /**
   * Cancels the task with that `name` option, if it has not started, or if
   * it is a thread task that runs: its thread is ended.
   *
   * @returns whether a task was cancelled.
   */
  cancel(name: string): boolean {
    return this.tasks.cancel(name);
  }
}

/**
 * The app's tasks as the runner sees them: side by side, and settled from the
 * start, as there is no response to wait for. They start on a later turn of
 * the event loop, so that even a sync task never runs on its caller's stack.
 */
class AppTasks extends RequestBackgroundTasks {
  private releasing = false;

  constructor(runner: TaskRunner) {
    super(runner, APP_ORIGIN);
    this.concurrent = true;
    this.settle(true);
  }

  protected override release(): void {
    if (this.releasing) return;
    this.releasing = true;
    setImmediate(() => {
      this.releasing = false;
      super.release();
    });
  }
}

/** One per runner, so that names are shared however many imports provide AppBackgroundTasks. */
const appTasks = new WeakMap<TaskRunner, AppTasks>();

function tasksOf(runner: TaskRunner): AppTasks {
  let tasks = appTasks.get(runner);
  if (tasks === undefined) appTasks.set(runner, (tasks = new AppTasks(runner)));
  return tasks;
}
