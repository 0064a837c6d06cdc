import type { ThreadPool } from '../threads/thread-pool.js';
import { InProcessExecution } from './in-process-execution.js';
import type { Task, TaskCallWrapper } from './task.js';
import type { ExecutionEnd } from './task-execution.js';

/**
 * Runs a thread task in the pool's worker threads, watched as a task on the
 * event loop is: its body is the pool's promise. At its deadline the task is
 * reported timed out and its signal aborted, which ends the thread that runs
 * it; its slot is freed when the pool has done so. `cancel(name)` and the
 * shutdown deadline abort the signal too.
 */
export class ThreadExecution extends InProcessExecution {
  constructor(
    end: ExecutionEnd,
    private readonly pool: ThreadPool,
    wrapper?: TaskCallWrapper,
  ) {
    super(end, wrapper);
  }

  protected override call(task: Task): Promise<unknown> {
    const controller = (task.controller = new AbortController());
    const run = () => this.pool.run(task.name, task.thread!, task.args, controller.signal);
    const wrapper = this.wrapper;
    return task.inAsyncContext(() => (wrapper === undefined ? run() : wrapper.run(task, run))) as Promise<unknown>;
  }
}
