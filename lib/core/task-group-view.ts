import type { ThreadTask } from '../threads/thread-task.js';
import type { BackgroundTaskContext } from '../interfaces/background-task-context.interface.js';
import type { BackgroundTaskOptions } from '../interfaces/background-task-options.interface.js';
import { BackgroundTasks } from './background-tasks.js';
import type { RequestBackgroundTasks } from './request-background-tasks.js';
import type { TaskGroup } from './task-group.js';

/**
 * A request's tasks as one part of it (a GraphQL field's resolver) holds
 * them: the same tasks, order and options, but what it adds, even after an
 * `await`, belongs to its group. It needs no async context, which on Node 20
 * makes every promise of the process slower.
 */
export class TaskGroupView extends BackgroundTasks {
  constructor(
    private readonly tasks: RequestBackgroundTasks,
    private readonly group: TaskGroup,
  ) {
    super();
  }

  get concurrent(): boolean {
    return this.tasks.concurrent;
  }

  set concurrent(concurrent: boolean) {
    this.tasks.concurrent = concurrent;
  }

  addTask<Args extends unknown[]>(fn: ((...args: Args) => unknown) | ThreadTask<Args>, ...args: NoInfer<Args>): void {
    this.tasks.addInGroup(this.group, () => this.tasks.addTask(fn, ...args));
  }

  addTaskWithOptions<Args extends unknown[]>(
    options: BackgroundTaskOptions,
    fn: ((context: BackgroundTaskContext, ...args: Args) => unknown) | ThreadTask<Args>,
    ...args: NoInfer<Args>
  ): void {
    this.tasks.addInGroup(this.group, () => this.tasks.addTaskWithOptions(options, fn, ...args));
  }

  cancel(name: string): boolean {
    return this.tasks.cancel(name);
  }
}
