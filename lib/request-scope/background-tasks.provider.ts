import { type FactoryProvider, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { BackgroundTasks } from '../core/background-tasks.js';
import { TaskRunner } from '../core/task-runner.js';
import { httpTasksOf } from '../http/http-background-tasks.js';
import { isHttpRequest } from '../http/node-request.js';
import { isMessageRequest, messageOrigin } from '../microservices/message-context.js';
import { messageTasksOf } from '../microservices/message-tasks.js';
import { ConnectionScopedBackgroundTasks } from '../websockets/connection-scoped-background-tasks.js';

/** Makes `BackgroundTasks` injectable: one instance per request or message. */
export const backgroundTasksProvider: FactoryProvider<BackgroundTasks> = {
  provide: BackgroundTasks,
  scope: Scope.REQUEST,
  inject: [REQUEST, TaskRunner],
  useFactory: requestTasksOf,
};

/** REQUEST is an HTTP request, or a message's request context, or else a WebSocket client. */
export function requestTasksOf(request: object, runner: TaskRunner): BackgroundTasks {
  if (isHttpRequest(request)) return httpTasksOf(request, runner);
  if (isMessageRequest(request)) {
    const messageContext = request.getContext();
    if (typeof messageContext === 'object' && messageContext !== null) {
      return messageTasksOf(messageContext, runner, messageOrigin(request.getPattern()));
    }
  }
  // A WebSocket client: REQUEST is the connection.
  return new ConnectionScopedBackgroundTasks();
}
