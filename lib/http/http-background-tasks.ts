import type { IncomingMessage, ServerResponse } from 'node:http';
import { NO_RESPONSE } from '../background-tasks.messages.js';
import { RequestBackgroundTasks } from '../core/request-background-tasks.js';
import type { TaskOrigin } from '../core/task-owner.js';
import type { TaskRunner } from '../core/task-runner.js';
import { httpOrigin } from './http-origin.js';
import { nodeRequestOf, responseOf } from './node-request.js';

/**
 * The tasks of each Node request, created on first use. Not a property of
 * the request: Express gives every request a V8 map of its own (it swaps the
 * prototype), so a property added to one costs a new map, and makes every
 * later property lookup on it miss V8's caches; a WeakMap entry costs neither.
 */
const httpTasks = new WeakMap<IncomingMessage, HttpBackgroundTasks>();

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
  /** Listens for the response's 'close' once a task is added, and for a late 'prefinish'. */
  private onResponseClose?: () => void;

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
      response.once('prefinish', this.onResponseClose!);
      return;
    }
    // The answer Nest wrote decides.
    this.settle(response.statusCode < 400);
  }

  protected override taskAdded(): void {
    if (this.onResponseClose !== undefined) return;
    // A closure, not `response.req`: a lookup on an Express response misses V8's caches (see httpTasks).
    this.onResponseClose = () => this.responseClosed();
    // 'close' follows 'finish', and is the only event when the client aborted.
    if (this.response!.closed) this.responseClosed();
    else this.response!.on('close', this.onResponseClose);
  }

  protected override letGo(): void {
    this.settledOrigin = httpOrigin(this.request!);
    this.request = this.response = undefined;
  }
}

/**
 * The one {@link HttpBackgroundTasks} of an HTTP request (Express's, or
 * Fastify's), created on first use: what the REQUEST-scoped provider and
 * `@Background()` return.
 */
export function httpTasksOf(request: object, runner: TaskRunner): HttpBackgroundTasks {
  const carrier = nodeRequestOf(request);
  let tasks = httpTasks.get(carrier);
  if (tasks === undefined) httpTasks.set(carrier, (tasks = new HttpBackgroundTasks(runner, carrier)));
  return tasks;
}

/** The tasks of an HTTP request, if anything has asked for them. */
export function peekHttpTasks(request: object): HttpBackgroundTasks | undefined {
  return httpTasks.get(nodeRequestOf(request));
}
