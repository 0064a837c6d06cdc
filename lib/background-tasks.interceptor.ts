import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, tap } from 'rxjs';
import { BACKGROUND_PARAM_METADATA } from './background-tasks.constants.js';
import { BackgroundTasks } from './background-tasks.service.js';
import { getTasks, markWithoutTasks, peekTasks } from './request-tasks.js';
import { BackgroundTaskRunner } from './task-runner.js';
import { carrierOf, originOf, wsMessageTasks } from './transports.js';

/**
 * Global singleton interceptor, for what the HTTP status cannot tell: when a
 * message's (or WebSocket message's) handler has finished, and how; and, in
 * `mode: 'inline'`, holding every handler's result until its tasks have run.
 * An HTTP app in the default mode has none: see the interceptor provider.
 */
@Injectable()
export class BackgroundTasksInterceptor implements NestInterceptor {
  private readonly takesParam = new WeakMap<object, boolean>();
  private readonly inline: boolean;

  constructor(
    private readonly runner: BackgroundTaskRunner,
    private readonly reflector: Reflector,
  ) {
    this.inline = runner.options.mode === 'inline';
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType();
    if (type === 'ws') return this.interceptWsMessage(context, next);
    if (type === 'http') return this.inline ? this.interceptInlineRequest(context, next) : next.handle();
    const carrier = carrierOf(context, type);
    if (carrier === undefined) return next.handle();
    let tasks = peekTasks(carrier);
    if (tasks === undefined) {
      // Injection has already happened; only a @Background() parameter can still ask.
      if (!this.takesBackgroundParam(context)) {
        markWithoutTasks(carrier);
        return next.handle();
      }
      tasks = getTasks(carrier, this.runner, originOf(context));
    }
    // Another import of the module already watches this message.
    if (tasks === null || tasks.claimed) return next.handle();
    tasks.claimed = true;
    return this.watch(next.handle(), tasks);
  }

  /** Gateways are singletons: each message that takes `@Background()` gets its tasks here. */
  private interceptWsMessage(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.takesBackgroundParam(context)) return next.handle();
    const tasks = new BackgroundTasks(this.runner, context.getArgs(), originOf(context));
    tasks.claimed = true;
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
    const request = carrierOf(context, 'http')!;
    return runInline(next.handle(), () => {
      const tasks = peekTasks(request);
      if (!tasks || tasks.claimed) return undefined;
      tasks.claimed = true;
      return tasks;
    });
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

  private watch(handled: Observable<unknown>, tasks: BackgroundTasks): Observable<unknown> {
    if (this.inline) return runInline(handled, () => tasks);
    return handled.pipe(tap({ complete: () => tasks.handlerFinished(true), error: () => tasks.handlerFinished(false) }));
  }
}

/** Holds the handler's completion, or its error, until the tasks (if any) have run. */
function runInline(source: Observable<unknown>, claim: () => BackgroundTasks | undefined): Observable<unknown> {
  const runClaimed = (succeeded: boolean) => claim()?.runNow(succeeded) ?? Promise.resolve();
  return new Observable((subscriber) =>
    source.subscribe({
      next: (value) => subscriber.next(value),
      error: (error: unknown) => void runClaimed(false).then(() => subscriber.error(error)),
      complete: () => void runClaimed(true).then(() => subscriber.complete()),
    }),
  );
}
