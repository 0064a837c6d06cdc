import { type FactoryProvider, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { NO_REQUEST, UNKNOWN_REQUEST } from '../background-tasks.messages.js';
import { BackgroundTasks } from '../core/background-tasks.js';
import { TaskRunner } from '../core/task-runner.js';
import { operationGroupOf } from '../graphql/graphql-operation.js';
import { type HttpBackgroundTasks, httpTasksOf } from '../http/http-background-tasks.js';
import { isHttpRequest } from '../http/node-request.js';
import { requestOfGraphQLContext } from '../internals/graphql-internals.js';
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

/**
 * REQUEST is an HTTP request, a GraphQL context (whose HTTP request holds the
 * tasks), a message's request context, or a WebSocket client; anything else
 * is a mistake to explain.
 */
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
  const httpRequest = requestOfGraphQLContext(request);
  if (httpRequest !== undefined && isHttpRequest(httpRequest)) return graphqlTasksOf(httpRequest, runner);
  throw new Error(UNKNOWN_REQUEST(request));
}

/**
 * The tasks of the HTTP request that carries a GraphQL request: those added
 * outside a field's resolver (by its guards) fail with the request as a whole.
 */
export function graphqlTasksOf(request: object, runner: TaskRunner): HttpBackgroundTasks {
  const tasks = httpTasksOf(request, runner);
  tasks.setOuterGroup(operationGroupOf(request));
  return tasks;
}
