import { performance } from 'node:perf_hooks';
import { TASK_TIMEOUT_ERROR } from '../background-tasks.messages.js';
import { isThenable } from '../utils/is-thenable.js';
import type { Task, TaskCallWrapper } from './task.js';
import type { ExecutionEnd, TaskExecution } from './task-execution.js';

/**
 * Calls a task on the event loop and watches its timeout. A task past its
 * deadline is reported timed out then, and its signal aborted; its body keeps
 * its slot until it returns. Sync code cannot be interrupted: a sync task, or
 * the sync start of an async one, that overran is reported timed out once it
 * returns.
 */
export class InProcessExecution implements TaskExecution {
  constructor(
    private readonly end: ExecutionEnd,
    /** Runs the call inside the task's span, with `tracing` on. */
    protected readonly wrapper?: TaskCallWrapper,
  ) {}

  execute(task: Task): void {
    let result: unknown;
    try {
      result = this.call(task);
    } catch (error) {
      this.returned(task, 'failed', error);
      return;
    }
    if (isThenable(result)) this.watch(task, result);
    else this.returned(task, 'succeeded');
  }

  /** Calls the task's body: here, on the event loop. */
  protected call(task: Task): unknown {
    return task.invoke(this.wrapper);
  }

  /** A sync body returned or threw: on time, or past its deadline, which no timer could enforce. */
  private returned(task: Task, outcome: 'succeeded' | 'failed', error?: unknown): void {
    if (task.timeout !== Infinity && performance.now() - task.startedAt > task.timeout) {
      this.end.ended(task, 'timed-out', timeoutError(task));
    } else {
      this.end.ended(task, outcome, error);
    }
  }

  /** Waits for the body to return, racing its deadline. */
  private watch(task: Task, body: PromiseLike<unknown>): void {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const bodyReturned = (outcome: 'succeeded' | 'failed', error?: unknown) => {
      if (done) return; // a thenable that calls back twice
      done = true;
      clearTimeout(timer);
      if (task.state === 'running') this.end.ended(task, outcome, error);
      else this.end.overdueReturned(task);
    };
    if (task.timeout !== Infinity) {
      const left = task.startedAt + task.timeout - performance.now();
      const expire = () => this.end.ended(task, 'timed-out', timeoutError(task), true);
      if (left > 0) timer = setTimeout(expire, left);
      else expire();
    }
    try {
      body.then(
        () => bodyReturned('succeeded'),
        (error: unknown) => bodyReturned('failed', error),
      );
    } catch (error) {
      // A thenable whose then() throws.
      bodyReturned('failed', error);
    }
  }
}

function timeoutError(task: Task): DOMException {
  return new DOMException(TASK_TIMEOUT_ERROR(task.name, task.timeout), 'TimeoutError');
}
