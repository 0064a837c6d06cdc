import type { IncomingMessage, ServerResponse } from 'node:http';
import { NO_RESPONSE } from '../background-tasks.messages.js';
import { RequestBackgroundTasks } from '../core/request-background-tasks.js';
import type { TaskOrigin } from '../core/task-owner.js';
import type { TaskRunner } from '../core/task-runner.js';
import { httpOrigin } from './http-origin.js';
import { nodeRequestOf, responseOf } from './node-request.js';

/** Where a Node request keeps its tasks, created on first use. */
const HTTP_TASKS = Symbol('nestjs-background-tasks:http-tasks');

interface TasksHolder extends IncomingMessage {
  [HTTP_TASKS]?: HttpBackgroundTasks;
}

/**
 * The tasks of an HTTP request. They run once its response has closed, and
 * the status Nest wrote decides the outcome, unless the interceptor decided
 * first (inline mode).
 */
export class HttpBackgroundTasks extends RequestBackgroundTasks {
  /** Read for the method and path until the tasks settle, then let go. */
  private request?: IncomingMessage;
  /** The response whose end lets the tasks run, and whose status decides the outcome. */
  private response?: ServerResponse;
  private settledOrigin?: TaskOrigin;
  private watched = false;

  constructor(runner: TaskRunner, request: IncomingMessage) {
    super(runner);
    this.request = request;
    this.response = responseOf(request);
    if (this.response === undefined) throw new Error(NO_RESPONSE);
  }

  override get origin(): TaskOrigin {
    return this.settledOrigin ?? httpOrigin(this.request!);
  }

  /** The handler's status (`@HttpCode()`, `res.status()`) is set by now, and counts as in the default mode. */
  override runInline(succeeded: boolean): Promise<void> {
    const failedStatus = this.response !== undefined && this.response.statusCode >= 400;
    return super.runInline(succeeded && !failedStatus);
  }

  /** The response has closed: finished, or cut off. */
  responseClosed(): void {
    if (this.batch.settled) return;
    const response = this.response!;
    if (!response.headersSent && !response.writableEnded) {
      // The client left before Nest answered; Nest still answers, into the closed connection.
      response.once('prefinish', onResponseClose);
      return;
    }
    // The answer Nest wrote decides.
    this.settle(response.statusCode < 400);
  }

  protected override taskAdded(): void {
    if (this.watched) return;
    this.watched = true;
    // 'close' follows 'finish', and is the only event when the client aborted.
    if (this.response!.closed) this.responseClosed();
    else this.response!.on('close', onResponseClose);
  }

  protected override letGo(): void {
    this.settledOrigin = httpOrigin(this.request!);
    this.request = this.response = undefined;
  }
}

/** One listener for every response, rather than a closure per request: on 'close', and on a late 'prefinish'. */
function onResponseClose(this: ServerResponse): void {
  (this.req as TasksHolder)[HTTP_TASKS]!.responseClosed();
}

/**
 * The one {@link HttpBackgroundTasks} of an HTTP request (Express's, or
 * Fastify's), created on first use: what the REQUEST-scoped provider and
 * `@Background()` return.
 */
export function httpTasksOf(request: object, runner: TaskRunner): HttpBackgroundTasks {
  const carrier = nodeRequestOf(request) as TasksHolder;
  return (carrier[HTTP_TASKS] ??= new HttpBackgroundTasks(runner, carrier));
}

/** The tasks of an HTTP request, if anything has asked for them. */
export function peekHttpTasks(request: object): HttpBackgroundTasks | undefined {
  return (nodeRequestOf(request) as TasksHolder)[HTTP_TASKS];
}
