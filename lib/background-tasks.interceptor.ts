import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, tap } from 'rxjs';
import { BACKGROUND_PARAM_METADATA } from './background-tasks.constants.js';
import { BackgroundTasks } from './background-tasks.service.js';
import { getTasks, markWithoutTasks, peekTasks } from './request-tasks.js';
import { BackgroundTaskRunner } from './task-runner.js';
import { carrierOf, originOf, rawResponse, wsMessageTasks } from './transports.js';

/**
 * Global singleton interceptor. It tells a request's (or message's) tasks how
 * the handler ended: they run once the response is done if it succeeded, and
 * only the `always` ones if it failed. HTTP requests that a guard rejects
 * never get here; their tasks learn it when the response closes.
 */
@Injectable()
export class BackgroundTasksInterceptor implements NestInterceptor {
  private readonly takesParam = new WeakMap<object, boolean>();

  constructor(
    private readonly runner: BackgroundTaskRunner,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType();
    if (type === 'ws') return this.interceptWsMessage(context, next);
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
    // Another import of the module already watches this request.
    if (tasks === null || tasks.claimed) return next.handle();
    tasks.claimed = true;
    if (type === 'http') tasks.attachResponse(rawResponse(context.getArgByIndex<object>(1)));
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

  /** Read once per handler: this runs on every request. */
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
    if (this.runner.options.mode === 'inline') return runInline(handled, tasks);
    return handled.pipe(tap({ complete: () => tasks.handlerFinished(true), error: () => tasks.handlerFinished(false) }));
  }
}

/** Holds the handler's completion, or its error, until the tasks have run. */
function runInline(source: Observable<unknown>, tasks: BackgroundTasks): Observable<unknown> {
  return new Observable((subscriber) =>
    source.subscribe({
      next: (value) => subscriber.next(value),
      error: (error: unknown) => void tasks.runNow(false).then(() => subscriber.error(error)),
      complete: () => void tasks.runNow(true).then(() => subscriber.complete()),
    }),
  );
}
