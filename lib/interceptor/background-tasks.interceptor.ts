import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { BACKGROUND_PARAM_METADATA } from '../background-tasks.constants.js';
import { RequestBackgroundTasks } from '../core/request-background-tasks.js';
import { TaskRunner } from '../core/task-runner.js';
import { peekHttpTasks } from '../http/http-background-tasks.js';
import { messageContextOf, messageOriginOf } from '../microservices/message-context.js';
import { markWithoutTasks, messageTasksOf, peekMessageTasks } from '../microservices/message-tasks.js';
import { watchOutcome } from '../utils/watch-outcome.js';
import { wsMessageTasks, wsOriginOf } from '../websockets/ws-message.js';

/**
 * Global singleton interceptor, for what the HTTP status cannot tell: when a
 * message's (or WebSocket message's) handler has finished, and how; and, in
 * `mode: 'inline'`, holding every HTTP handler's result until its tasks have
 * run. An HTTP or GraphQL app in the default mode has none: see the
 * interceptor provider. GraphQL fields get their outcome from their schema
 * instead (`graphql/graphql-schema.ts`); inline mode does not hold them back.
 */
@Injectable()
export class BackgroundTasksInterceptor implements NestInterceptor {
  private readonly takesParam = new WeakMap<object, boolean>();
  private readonly inline: boolean;

  constructor(
    private readonly runner: TaskRunner,
    private readonly reflector: Reflector,
  ) {
    this.inline = runner.options.mode === 'inline';
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType<string>();
    if (type === 'rpc') return this.interceptMessage(context, next);
    if (type === 'ws') return this.interceptWsMessage(context, next);
    if (type === 'http' && this.inline) return this.interceptInlineRequest(context, next);
    return next.handle();
  }

  private interceptMessage(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const messageContext = messageContextOf(context);
    if (messageContext === undefined) return next.handle();
    let tasks = peekMessageTasks(messageContext);
    if (tasks === undefined) {
      // Injection has already happened; only a @Background() parameter can still ask.
      if (!this.takesBackgroundParam(context)) {
        markWithoutTasks(messageContext);
        return next.handle();
      }
      tasks = messageTasksOf(messageContext, this.runner, messageOriginOf(context));
    }
    return tasks === null ? next.handle() : this.watch(next.handle(), tasks);
  }

  /** Gateways are singletons: each message that takes `@Background()` gets its tasks here. */
  private interceptWsMessage(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.takesBackgroundParam(context)) return next.handle();
    const tasks = new RequestBackgroundTasks(this.runner, wsOriginOf(context));
    // Nest binds the rest of the pipeline, parameters included, to the context it is created in.
    return this.watch(
      wsMessageTasks.run(tasks, () => next.handle()),
      tasks,
    );
  }

  /**
   * Inline mode over HTTP: the request's tasks may be created at any point
   * up to the handler's end, so they are looked up then.
   */
  private interceptInlineRequest(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.getArgByIndex<object>(0);
    return runInline(next.handle(), () => peekHttpTasks(request));
  }

  /** Read once per handler: this runs on every message. */
  private takesBackgroundParam(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let takes = this.takesParam.get(handler);
    if (takes === undefined) {
      takes = this.reflector.get<boolean | undefined>(BACKGROUND_PARAM_METADATA, handler) === true;
      this.takesParam.set(handler, takes);
    }
    return takes;
  }

  private watch(handled: Observable<unknown>, tasks: RequestBackgroundTasks): Observable<unknown> {
    if (this.inline) return runInline(handled, () => tasks);
    // The reply goes out on the next ticks; there is no response to wait for.
    return watchOutcome(handled, (succeeded) => void setImmediate(() => tasks.settle(succeeded)));
  }
}

/** Holds the handler's completion, or its error, until the tasks (if any) have run. */
function runInline(source: Observable<unknown>, tasksOf: () => RequestBackgroundTasks | undefined): Observable<unknown> {
  return watchOutcome(source, (succeeded) => tasksOf()?.runInline(succeeded));
}
