import type { ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Background } from '../../../lib/index.js';

/** The factory Nest calls for a `@Background()` parameter. */
function backgroundFactory(): (data: unknown, context: ExecutionContext) => unknown {
  class Handlers {
    handle(_tasks: unknown) {}
  }
  Background()(Handlers.prototype, 'handle', 0);
  const [param] = Object.values(Reflect.getMetadata(ROUTE_ARGS_METADATA, Handlers, 'handle') as object) as Array<{
    factory: (data: unknown, context: ExecutionContext) => unknown;
  }>;
  return param.factory;
}

/** A context of that type, around a request or message context that nothing prepared. */
function contextOf(type: string): ExecutionContext {
  const carrier = {};
  return {
    getType: () => type,
    getArgByIndex: (index: number) => (index === (type === 'http' ? 0 : 1) ? carrier : undefined),
    switchToHttp: () => ({ getRequest: () => carrier }),
    switchToRpc: () => ({ getContext: () => carrier }),
  } as unknown as ExecutionContext;
}

describe('@Background()', () => {
  it.each([
    ['http', '@Background() found no BackgroundTasks for this request: import BackgroundTasksModule in the root module.'],
    ['rpc', '@Background() found no BackgroundTasks for this message: import BackgroundTasksModule in the root module.'],
    ['ws', '@Background() found no BackgroundTasks for this message: import BackgroundTasksModule in the root module.'],
    ['graphql', '@Background() is not supported in graphql handlers, only in HTTP, microservice and WebSocket ones.'],
  ])('in a %s handler the module did not prepare, throws a clear error', (type, message) => {
    expect(() => backgroundFactory()(undefined, contextOf(type))).toThrow(message);
  });

  it('refuses constructor parameters', () => {
    class Service {}
    expect(() => Background()(Service, undefined, 0)).toThrow(
      '@Background() decorates handler parameters; to get BackgroundTasks in a constructor, inject it.',
    );
  });
});
