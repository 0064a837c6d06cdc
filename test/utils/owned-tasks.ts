import { RequestBackgroundTasks } from '../../lib/core/request-background-tasks.js';
import type { TaskOrigin } from '../../lib/core/task-owner.js';
import type { TaskRunner } from '../../lib/core/task-runner.js';
import { waitFor } from './wait-for.js';

/**
 * Owners of tasks for unit tests of the runner core: a RequestBackgroundTasks
 * with a fixed origin, and no transport. Nothing settles it but the test,
 * through the runner, as the HTTP, message and WebSocket paths do once their
 * request or message is done.
 */

const runners = new WeakMap<RequestBackgroundTasks, TaskRunner>();

/** The tasks of one (fake) request, named `method path` in events and log lines. */
export function ownedTasks(runner: TaskRunner, method = 'POST', path = '/orders/42'): RequestBackgroundTasks {
  const origin: TaskOrigin = { transport: 'http', method, path };
  const tasks = new RequestBackgroundTasks(runner, origin);
  runners.set(tasks, runner);
  return tasks;
}

/** The request succeeded: `runner.settle(batch, 'succeeded')`. */
export function succeed(tasks: RequestBackgroundTasks): void {
  runners.get(tasks)!.settle(tasks.batch, 'succeeded');
}

/** The request failed: `runner.settle(batch, 'failed')`. */
export function fail(tasks: RequestBackgroundTasks): void {
  runners.get(tasks)!.settle(tasks.batch, 'failed');
}

/** Waits until the batch of `tasks` has nothing running and nothing queued. */
export function batchDone(tasks: RequestBackgroundTasks, what = 'the tasks to finish'): Promise<true> {
  return waitFor(what, () => tasks.batch.current === undefined && tasks.batch.unfinished === 0);
}
