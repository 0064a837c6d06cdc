import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { Observable, tap } from 'rxjs';
import { BACKGROUND_PARAM_METADATA } from './background-tasks.constants.js';
import type { BackgroundTasks } from './background-tasks.service.js';
import { getRequestTasks, markRequestWithoutTasks, peekRequestTasks } from './request-tasks.js';
import { BackgroundTaskRunner } from './task-runner.js';

/**
 * Global singleton interceptor. It tells a request's tasks how the handler
 * ended: they run once the response is done if it succeeded, and only the
 * `always` ones if it failed. Requests that a guard rejects never get here;
 * their tasks learn it when the response closes.
 */
@Injectable()
export class BackgroundTasksInterceptor implements NestInterceptor {
  constructor(
    private readonly runner: BackgroundTaskRunner,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<object>();
    let tasks = peekRequestTasks(request);
    if (tasks === undefined) {
      // Injection has already happened; only a @Background() parameter can still ask.
      if (this.reflector.get<boolean>(BACKGROUND_PARAM_METADATA, context.getHandler())) {
        tasks = getRequestTasks(request, this.runner);
      } else {
        markRequestWithoutTasks(request);
        return next.handle();
      }
    }
    // Another import of the module already watches this request.
    if (tasks === null || tasks.claimed) return next.handle();
    tasks.claimed = true;
    tasks.response ??= http.getResponse<ServerResponse>();
    if (this.runner.options.mode === 'inline') return runInline(next.handle(), tasks);
    return next.handle().pipe(
      tap({ complete: () => tasks.handlerFinished(true), error: () => tasks.handlerFinished(false) }),
    );
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
