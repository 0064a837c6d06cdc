import { EventEmitter } from 'node:events';
import { BackgroundTasks } from '../../lib/background-tasks.service.js';
import type { BackgroundTaskRunner } from '../../lib/task-runner.js';

/**
 * Fakes of what Nest and Node do for one request, for unit tests that hand
 * the runner a request's BackgroundTasks without an app or HTTP.
 */

type FakeResponse = EventEmitter & { closed: boolean };

/** The fake response of each request's tasks (which let go of it once they settle). */
const responses = new WeakMap<BackgroundTasks, FakeResponse>();

/** A request's tasks, for a fake request whose response has not closed yet. */
export function requestTasks(runner: BackgroundTaskRunner, method = 'POST', path = '/orders/42'): BackgroundTasks {
  const res = Object.assign(new EventEmitter(), { closed: false });
  const tasks = new BackgroundTasks(runner, { method, url: path, res });
  responses.set(tasks, res);
  return tasks;
}

/** What the interceptor and the response do for a request that succeeded. */
export function respond(tasks: BackgroundTasks): void {
  tasks.claimed = true;
  tasks.handlerFinished(true);
  closeResponse(tasks);
}

/** What the response does once it is done: emits 'close', once. */
export function closeResponse(tasks: BackgroundTasks): void {
  const res = responses.get(tasks)!;
  if (res.closed) return;
  res.closed = true;
  res.emit('close');
}

/** A request whose handler threw: the interceptor reports the failure, then the error response closes. */
export function failHandler(tasks: BackgroundTasks): void {
  tasks.claimed = true;
  tasks.handlerFinished(false);
  closeResponse(tasks);
}
