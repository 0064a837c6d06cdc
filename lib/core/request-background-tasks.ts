import type { ThreadTask } from '../threads/thread-task.js';
import {
  MUST_BE_BOOLEAN,
  MUST_BE_NAME,
  NOT_A_FUNCTION,
  OPTIONS_NOT_AN_OBJECT,
  TASK_OPTION,
  UNKNOWN_OPTION,
} from '../background-tasks.messages.js';
import type { BackgroundTaskContext } from '../interfaces/background-task-context.interface.js';
import type { BackgroundTaskOptions } from '../interfaces/background-task-options.interface.js';
import { closest } from '../utils/closest.js';
import { Task } from './task.js';
import { BackgroundTasks } from './background-tasks.js';
import { checkTimeout } from './runner-options.js';
import { TaskBatch } from './task-batch.js';
import type { TaskOrigin, TaskOwner } from './task-owner.js';
import { currentGroup, type TaskGroup } from './task-group.js';
import type { TaskRunner } from './task-runner.js';

/**
 * The tasks of one request or message: the public API over a batch of the
 * runner. Whoever knows when the handler is done calls {@link settle}; the
 * HTTP path extends it to watch its response.
 */
export class RequestBackgroundTasks extends BackgroundTasks implements TaskOwner {
  concurrent = false;
  readonly batch = new TaskBatch<Task>(this);
  /** The group of the tasks added outside any other: a GraphQL request's, for what its guards add. */
  private outerGroup?: TaskGroup;
  /** The group of the tasks being added through a {@link TaskGroupView}, while it adds them. */
  private pinnedGroup?: TaskGroup;

  constructor(
    protected readonly runner: TaskRunner,
    private readonly fixedOrigin?: TaskOrigin,
  ) {
    super();
  }

  get origin(): TaskOrigin {
    return this.fixedOrigin!;
  }

  addTask<Args extends unknown[]>(fn: ((...args: Args) => unknown) | ThreadTask<Args>, ...args: NoInfer<Args>): void {
    if (typeof fn !== 'function') throw new TypeError(NOT_A_FUNCTION('addTask', fn));
    const { options, handlers } = this.runner;
    this.add(new Task(fn, args, this.batch, undefined, false, options.taskTimeout, false, handlers.of(fn)));
  }

  addTaskWithOptions<Args extends unknown[]>(
    options: BackgroundTaskOptions,
    fn: ((context: BackgroundTaskContext, ...args: Args) => unknown) | ThreadTask<Args>,
    ...args: NoInfer<Args>
  ): void {
    const { name, always = false, timeout = this.runner.options.taskTimeout } = checkTaskOptions(options);
    if (typeof fn !== 'function') throw new TypeError(NOT_A_FUNCTION('addTaskWithOptions', fn));
    this.add(new Task(fn, args, this.batch, name, always, timeout, true, this.runner.handlers.of(fn)));
  }

  cancel(name: string): boolean {
    const task = this.batch.queuedNamed(name);
    if (task === undefined) return this.runner.cancelRunning(this.batch, name);
    this.runner.cancel(task, 'cancelled');
    return true;
  }

  /** The handler is done, and so is its answer: the tasks are the runner's. Once only. */
  settle(succeeded: boolean): void {
    if (this.batch.settled) return;
    this.letGo();
    this.runner.settle(this.batch, succeeded ? 'succeeded' : 'failed');
  }

  /** Gives the tasks added outside any group from now on a group of their own. Once only. */
  setOuterGroup(group: TaskGroup): void {
    this.outerGroup ??= group;
  }

  /** Adds, through `add`, tasks of `group`: a part of the request that holds a view of its tasks. */
  addInGroup(group: TaskGroup, add: () => void): void {
    const previous = this.pinnedGroup;
    this.pinnedGroup = group;
    try {
      add();
    } finally {
      this.pinnedGroup = previous;
    }
  }

  /** Inline mode: settles, and resolves once the tasks have run. */
  runInline(succeeded: boolean): Promise<void> {
    this.settle(succeeded);
    return this.batch.whenEnded();
  }

  /** Called for each task accepted before the batch is settled. */
  protected taskAdded(): void {}

  /** Called once, when the batch is settled: tasks may outlive their request by far. */
  protected letGo(): void {}

  private add(task: Task): void {
    this.runner.admit(task);
    const replaced = task.givenName === undefined ? undefined : this.batch.queuedNamed(task.givenName);
    if (replaced !== undefined) this.runner.cancel(replaced, 'replaced');
    // Once the batch has settled, the part of the request that added a task is over.
    if (!this.batch.settled) task.group = this.pinnedGroup ?? currentGroup() ?? this.outerGroup;
    if (!this.runner.accept(task)) return;
    if (this.batch.settled) this.release();
    else this.taskAdded();
  }

  /** Hands a task added after the batch settled to the runner. */
  protected release(): void {
    this.runner.release(this.batch);
  }
}

const TASK_OPTIONS = ['name', 'always', 'timeout'];

function checkTaskOptions(options: BackgroundTaskOptions): BackgroundTaskOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(OPTIONS_NOT_AN_OBJECT(options));
  }
  for (const key in options) {
    if (key !== 'name' && key !== 'always' && key !== 'timeout') {
      const owner = 'BackgroundTasks.addTaskWithOptions()';
      throw new TypeError(UNKNOWN_OPTION(owner, key, closest(key, TASK_OPTIONS), TASK_OPTIONS));
    }
  }
  const { name, always, timeout } = options;
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new TypeError(TASK_OPTION('name', MUST_BE_NAME(name)));
  }
  if (always !== undefined && typeof always !== 'boolean') {
    throw new TypeError(TASK_OPTION('always', MUST_BE_BOOLEAN(always)));
  }
  if (timeout !== undefined) checkTimeout(timeout, (problem) => TASK_OPTION('timeout', problem));
  return options;
}
