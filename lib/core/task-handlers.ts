import { DUPLICATE_HANDLER } from '../background-tasks.messages.js';
import type { BackgroundTaskHandlerOptions } from '../interfaces/background-task-handler-options.interface.js';

/** A `@BackgroundTaskHandler()` method of a provider, found at startup. */
export interface TaskHandler {
  /** Its stable name: the name of its jobs. */
  readonly name: string;
  /** The prototype's method: what `addTask(this.mailer.sendWelcome, …)` is given. */
  readonly fn: (...args: never[]) => unknown;
  /** The provider it is called on, in this process and on workers. */
  readonly instance: object;
  readonly options: BackgroundTaskHandlerOptions;
}

/** The app's handlers, by their function (for `addTask()`) and by their name (for workers). */
export class TaskHandlers {
  private readonly byFunction = new Map<unknown, TaskHandler>();
  private readonly byName = new Map<string, TaskHandler>();

  register(handler: TaskHandler): void {
    if (this.byName.has(handler.name) || this.byFunction.has(handler.fn)) throw new Error(DUPLICATE_HANDLER(handler.name));
    this.byName.set(handler.name, handler);
    this.byFunction.set(handler.fn, handler);
  }

  /** The handler that `fn` is, if any: a lookup that apps without handlers skip. */
  of(fn: unknown): TaskHandler | undefined {
    return this.byFunction.size === 0 ? undefined : this.byFunction.get(fn);
  }

  named(name: string): TaskHandler | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }
}
