import { EventEmitter } from 'node:events';
import type { TaskRunner } from '../../lib/core/task-runner.js';
import { type HttpBackgroundTasks, httpTasksOf } from '../../lib/http/http-background-tasks.js';

/**
 * Fakes of what Nest and Node do for one request, for unit tests that hand
 * the runner a request's BackgroundTasks without an app or HTTP.
 */

type FakeResponse = EventEmitter & { req?: object; closed: boolean; headersSent: boolean; writableEnded: boolean; statusCode: number };

/** The fake response of each request's tasks (which let go of it once they settle). */
const responses = new WeakMap<HttpBackgroundTasks, FakeResponse>();

/** A request's tasks, for a fake request whose response has not closed yet. */
export function requestTasks(runner: TaskRunner, method = 'POST', path = '/orders/42'): HttpBackgroundTasks {
  const res: FakeResponse = Object.assign(new EventEmitter(), { closed: false, headersSent: false, writableEnded: false, statusCode: 200 });
  const request = { method, url: path, res };
  res.req = request;
  const tasks = httpTasksOf(request, runner);
  responses.set(tasks, res);
  return tasks;
}

/** What Node does for a request that succeeded: the response is sent with a 200, then closes. */
export function respond(tasks: HttpBackgroundTasks): void {
  closeResponse(tasks, 200);
}

/** What a request that a guard denied does: the response is sent with a 403, then closes. */
export function deny(tasks: HttpBackgroundTasks): void {
  closeResponse(tasks, 403);
}

/** What the response does once it is done: emits 'close', once, after a response with this status. */
function closeResponse(tasks: HttpBackgroundTasks, status: number): void {
  const res = responses.get(tasks)!;
  if (res.closed) return;
  Object.assign(res, { statusCode: status, headersSent: true, writableEnded: true, closed: true });
  res.emit('close');
}

/** A request whose handler threw: the exception filter answers with a 500, then the response closes. */
export function failHandler(tasks: HttpBackgroundTasks): void {
  closeResponse(tasks, 500);
}
