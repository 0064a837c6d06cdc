import { type FactoryProvider, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { GRAPHQL_CONTEXT, NO_REQUEST, UNKNOWN_REQUEST } from '../background-tasks.messages.js';
import { BackgroundTasks } from '../core/background-tasks.js';
import { TaskRunner } from '../core/task-runner.js';
import { httpTasksOf } from '../http/http-background-tasks.js';
import { isHttpRequest } from '../http/node-request.js';
import { isMessageRequest, messageOrigin } from '../microservices/message-context.js';
import { messageTasksOf } from '../microservices/message-tasks.js';
import { ConnectionScopedBackgroundTasks } from '../websockets/connection-scoped-background-tasks.js';
import { isWsClient } from '../websockets/ws-message.js';

/** Makes `BackgroundTasks` injectable: one instance per request or message. */
export const backgroundTasksProvider: FactoryProvider<BackgroundTasks> = {
  provide: BackgroundTasks,
  scope: Scope.REQUEST,
  inject: [REQUEST, TaskRunner],
  useFactory: requestTasksOf,
};

/** REQUEST is an HTTP request, a message's request context, or a WebSocket client; anything else is a mistake to explain. */
export function requestTasksOf(request: unknown, runner: TaskRunner): BackgroundTasks {
  if (typeof request !== 'object' || request === null) throw new Error(NO_REQUEST);
  if (isHttpRequest(request)) return httpTasksOf(request, runner);
  if (isMessageRequest(request)) {
    const messageContext = request.getContext();
    if (typeof messageContext === 'object' && messageContext !== null) {
      return messageTasksOf(messageContext, runner, messageOrigin(request.getPattern()));
    }
  }
  // The gateway is built when a client connects, outside any handler: throwing here would crash the process.
  if (isWsClient(request)) return new ConnectionScopedBackgroundTasks();
  if (isGraphQLContext(request)) throw new Error(GRAPHQL_CONTEXT);
  throw new Error(UNKNOWN_REQUEST(request));
}

/** Apollo's context holds the HTTP request as `req`, Mercurius's the Fastify reply as `reply`. */
function isGraphQLContext(request: object): boolean {
  const { req, reply } = request as { req?: unknown; reply?: unknown };
  return (typeof req === 'object' && req !== null && isHttpRequest(req)) || (typeof reply === 'object' && reply !== null);
}
