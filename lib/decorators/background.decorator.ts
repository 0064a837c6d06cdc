import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { BACKGROUND_PARAM_METADATA } from '../background-tasks.constants.js';
import { getTasks, peekTasks } from '../request-tasks.js';
import { carrierOf, nodeRequestOf, runnerOf, wsMessageTasks } from '../transports.js';

const SUPPORTED_TYPES = new Set(['http', 'rpc', 'ws']);

const BackgroundParam = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const type = context.getType<string>();
  if (type === 'http') {
    // No interceptor is involved: the request leads to its app's runner.
    const request = context.getArgByIndex<object>(0);
    const runner = runnerOf(request);
    return runner === undefined ? missingModule('request') : getTasks(nodeRequestOf(request), runner);
  }
  if (!SUPPORTED_TYPES.has(type)) {
    throw new Error(`@Background() is not supported in ${type} handlers, only in HTTP, microservice and WebSocket ones.`);
  }
  // The module's interceptor prepares them before the handler's parameters are resolved.
  const carrier = carrierOf(context);
  return (type === 'ws' ? wsMessageTasks.getStore() : carrier && peekTasks(carrier)) || missingModule('message');
});

function missingModule(what: string): never {
  throw new Error(`@Background() found no BackgroundTasks for this ${what}: import BackgroundTasksModule in the root module.`);
}

/**
 * Handler parameter decorator that gives the request's (or message's)
 * {@link BackgroundTasks}, FastAPI style, without making the controller
 * request-scoped. This is the fast path for hot routes, and the way to get
 * them in a WebSocket gateway. Works in route handlers, microservice message
 * and event handlers, and `@SubscribeMessage()` handlers.
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
    if (propertyKey === undefined) {
      throw new TypeError(
        '@Background() decorates handler parameters; to get BackgroundTasks in a constructor, inject it.',
      );
    }
    BackgroundParam()(target, propertyKey, parameterIndex);
    // The interceptor reads this to prepare the request before the handler runs.
    Reflect.defineMetadata(BACKGROUND_PARAM_METADATA, true, (target as Record<string | symbol, object>)[propertyKey]);
  };
}
