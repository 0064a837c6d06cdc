import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Observable, tap } from 'rxjs';
import { BACKGROUND_PARAM_METADATA } from './background-tasks.constants.js';
import type { BackgroundTasks } from './background-tasks.service.js';
import { getRequestTasks, markRequestWithoutTasks, peekRequestTasks } from './request-tasks.js';
import { BackgroundTaskRunner } from './task-runner.js';

/**
 * Global singleton interceptor. When the handler of a request that has tasks
 * succeeds, it hands them to the runner as soon as the response is done.
 * Requests that fail never get here, or end in an error: their tasks are
 * dropped with the request.
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
    const request = http.getRequest<IncomingMessage>();
    let tasks = peekRequestTasks(request);
    if (tasks === undefined) {
      // Injection has already happened; only a @Background() parameter can still ask.
      if (this.reflector.get<boolean>(BACKGROUND_PARAM_METADATA, context.getHandler())) {
        tasks = getRequestTasks(request);
      } else {
        markRequestWithoutTasks(request);
        return next.handle();
      }
    }
    // Another import of the module already watches this request.
    if (tasks === null || tasks.claimed) return next.handle();
    tasks.claimed = true;
    const response = http.getResponse<ServerResponse>();
    return next.handle().pipe(tap({ complete: () => this.runAfterResponse(tasks, request, response) }));
  }

  private runAfterResponse(tasks: BackgroundTasks, request: IncomingMessage, response: ServerResponse): void {
    const url = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '';
    tasks.method = request.method ?? '';
    tasks.path = url.split('?', 1)[0];
    // 'close' follows 'finish', and is the only event when the client aborted.
    if (response.closed) {
      this.runner.run(tasks);
    } else {
      response.once('close', () => this.runner.run(tasks));
    }
  }
}
