import { EventEmitter } from 'node:events';
import type { TaskRunner } from '../../lib/core/task-runner.js';
import { type HttpBackgroundTasks, httpTasksOf } from '../../lib/http/http-background-tasks.js';

/**
 * Fakes of what Nest and Node do for one HTTP request, for unit tests that
 * hand the runner a request's HttpBackgroundTasks without an app or HTTP.
 * Unlike a real response, the fake emits its events as often as it is told
 * to, so that tests can check that a second 'close' (or a 'prefinish' after
 * 'close') changes nothing.
 */

export type FakeResponse = EventEmitter & {
  closed: boolean;
  headersSent: boolean;
  writableEnded: boolean;
  statusCode: number;
};

/** The fake response of each request's tasks (which let go of it once they settle). */
const responses = new WeakMap<HttpBackgroundTasks, FakeResponse>();
/** The fake request of each request's tasks. */
const requests = new WeakMap<HttpBackgroundTasks, object>();

/**
 * A request's tasks, for a fake request whose response has not closed yet.
 * `url` may carry a query string; `extra` adds request fields (Express's `originalUrl`).
 */
export function requestTasks(
  runner: TaskRunner,
  method = 'POST',
  url = '/orders/42',
  extra: Record<string, unknown> = {},
): HttpBackgroundTasks {
  const res: FakeResponse = Object.assign(new EventEmitter(), {
    closed: false,
    headersSent: false,
    writableEnded: false,
    statusCode: 200,
  });
  const request = { method, url, headers: {}, res, ...extra };
  const tasks = httpTasksOf(request, runner);
  responses.set(tasks, res);
  requests.set(tasks, request);
  return tasks;
}

/** The fake request of a request's tasks. */
export function fakeRequestOf(tasks: HttpBackgroundTasks): object {
  return requests.get(tasks)!;
}

/** The fake response of a request's tasks. */
export function fakeResponseOf(tasks: HttpBackgroundTasks): FakeResponse {
  return responses.get(tasks)!;
}

/** What Node does for a request that succeeded: the response is sent with this status (200), then emits 'close'. Again each call. */
export function respond(tasks: HttpBackgroundTasks, status = 200): void {
  const res = fakeResponseOf(tasks);
  Object.assign(res, { statusCode: status, headersSent: true, writableEnded: true });
  res.emit('prefinish');
  res.emit('finish');
  res.closed = true;
  res.emit('close');
}

/** What a request that a guard denied does: the response is sent with a 403, then closes. */
export function deny(tasks: HttpBackgroundTasks): void {
  respond(tasks, 403);
}

/** A request whose handler threw: the exception filter answers with a 500, then the response closes. */
export function failHandler(tasks: HttpBackgroundTasks): void {
  respond(tasks, 500);
}

/** The client goes away before Nest has answered: 'close' comes with nothing sent. */
export function clientLeaves(tasks: HttpBackgroundTasks): void {
  const res = fakeResponseOf(tasks);
  res.closed = true;
  res.emit('close');
}

/** Nest writes its answer into the closed connection of a client that left: 'prefinish' (and 'finish') with the status, no 'close' again. */
export function answerIntoClosed(tasks: HttpBackgroundTasks, status: number): void {
  const res = fakeResponseOf(tasks);
  Object.assign(res, { statusCode: status, headersSent: true, writableEnded: true });
  res.emit('prefinish');
  res.emit('finish');
}

/** The handler's status (`@HttpCode()`, `res.status()`), set before the response is sent. */
export function setStatus(tasks: HttpBackgroundTasks, status: number): void {
  fakeResponseOf(tasks).statusCode = status;
}
