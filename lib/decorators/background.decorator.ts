import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { BACKGROUND_PARAM_METADATA } from '../background-tasks.constants.js';
import {
  BACKGROUND_ON_CONSTRUCTOR,
  BACKGROUND_UNSUPPORTED,
  BACKGROUND_WITHOUT_MODULE,
  GRAPHQL_SUBSCRIPTION,
} from '../background-tasks.messages.js';
import type { BackgroundTasks } from '../core/background-tasks.js';
import { TaskGroupView } from '../core/task-group-view.js';
import type { TaskRunner } from '../core/task-runner.js';
import { infoOf, isSubscription, requestOfResolver } from '../graphql/graphql-context.js';
import { fieldGroupOf } from '../graphql/graphql-field.js';
import { httpTasksOf } from '../http/http-background-tasks.js';
import { hideParamType } from '../internals/nest-internals.js';
import { runnerOf } from '../http/http-runner.js';
import { messageContextOf } from '../microservices/message-context.js';
import { peekMessageTasks } from '../microservices/message-tasks.js';
import { graphqlTasksOf } from '../request-scope/background-tasks.provider.js';
import { wsMessageTasks } from '../websockets/ws-message.js';

const BackgroundParam = createParamDecorator((_data: unknown, context: ExecutionContext): BackgroundTasks => {
  const type = context.getType<string>();
  if (type === 'http') {
    const request = context.getArgByIndex<object>(0);
    return httpTasksOf(request, requireRunner(request));
  }
  if (type === 'graphql') {
    // A query or mutation came over HTTP: its request's tasks serve every resolver of the request.
    const request = requestOfResolver(context);
    if (request === undefined || isSubscription(context)) throw new Error(GRAPHQL_SUBSCRIPTION);
    const tasks = graphqlTasksOf(request, requireRunner(request));
    // A view that adds the field's tasks to its group; a field of a schema the module did not wrap has none.
    const info = infoOf(context);
    const group = info && fieldGroupOf(info);
    return group === undefined ? tasks : new TaskGroupView(tasks, group);
  }
  // For messages, the module's interceptor prepares them before the handler's parameters are resolved.
  let tasks: BackgroundTasks | null | undefined;
  if (type === 'rpc') {
    const messageContext = messageContextOf(context);
    tasks = messageContext && peekMessageTasks(messageContext);
  } else if (type === 'ws') {
    tasks = wsMessageTasks.getStore();
  } else {
    throw new Error(BACKGROUND_UNSUPPORTED(type));
  }
  if (!tasks) throw new Error(BACKGROUND_WITHOUT_MODULE('message'));
  return tasks;
});

/** No interceptor is involved: the request leads to its app's runner. */
function requireRunner(request: object): TaskRunner {
  const runner = runnerOf(request);
  if (runner === undefined) throw new Error(BACKGROUND_WITHOUT_MODULE('request'));
  return runner;
}

/**
 * Handler parameter decorator that gives the request's (or message's)
 * {@link BackgroundTasks}, FastAPI style, without making the controller
 * request-scoped. This is the fast path for hot routes, and the way to get
 * them in a WebSocket gateway. Works in route handlers, GraphQL query and
 * mutation resolvers, microservice message and event handlers, and
 * `@SubscribeMessage()` handlers.
 *
 * @example
 * ```ts
 * @Post('send-notification/:email')
 * send(@Param('email') email: string, @Background() tasks: BackgroundTasks) {
 *   tasks.addTask(writeNotification, email, 'some notification');
 *   return { message: 'Notification sent in the background' };
 * }
 * ```
 */
export function Background(): ParameterDecorator {
  return (target, propertyKey, parameterIndex) => {
    if (propertyKey === undefined) throw new TypeError(BACKGROUND_ON_CONSTRUCTOR);
    BackgroundParam()(target, propertyKey, parameterIndex);
    // The interceptor reads this to prepare a message before the handler runs.
    Reflect.defineMetadata(BACKGROUND_PARAM_METADATA, true, (target as Record<string | symbol, object>)[propertyKey]);
    // Nest hands every custom parameter to the global pipes with its declared type; a ValidationPipe with
    // `transform` and `validateCustomDecorators` would build a copy of BackgroundTasks instead of the request's own.
    hideParamType(target, propertyKey, parameterIndex);
  };
}
