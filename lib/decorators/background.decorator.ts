import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { BACKGROUND_PARAM_METADATA } from '../background-tasks.constants.js';
import { peekRequestTasks } from '../request-tasks.js';

const BackgroundParam = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  // The module's interceptor prepares them before the handler's parameters are resolved.
  const tasks = peekRequestTasks(context.switchToHttp().getRequest<object>());
  if (!tasks) {
    const type = context.getType();
    throw new Error(
      type === 'http'
        ? '@Background() found no BackgroundTasks for this request: import BackgroundTasksModule in the root module.'
        : `@Background() works in HTTP route handlers only, not in this ${type} handler.`,
    );
  }
  return tasks;
});

/**
 * Route handler parameter decorator that gives the request's
 * {@link BackgroundTasks}, FastAPI style, without making the controller
 * request-scoped. This is the fast path for hot routes.
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
        '@Background() decorates route handler parameters; to get BackgroundTasks in a constructor, inject it.',
      );
    }
    BackgroundParam()(target, propertyKey, parameterIndex);
    // The interceptor reads this to prepare the request before the handler runs.
    Reflect.defineMetadata(BACKGROUND_PARAM_METADATA, true, (target as Record<string | symbol, object>)[propertyKey]);
  };
}
