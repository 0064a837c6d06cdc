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
    [
      'kafka-streams',
      '@Background() is not supported in kafka-streams handlers, only in HTTP, GraphQL, microservice and WebSocket ones.',
    ],
  ])('in a %s handler the module did not prepare, throws a clear error', (type, message) => {
    expect(() => backgroundFactory()(undefined, contextOf(type))).toThrow(message);
  });

  it.each([
    ['over a WebSocket, with no HTTP request in its context', { connectionParams: {} }, 'subscription'],
    ['even with an HTTP request in its context', { req: { method: 'GET', headers: {} } }, 'subscription'],
  ])('in a GraphQL subscription %s, throws a clear error', (_case, gqlContext, operation) => {
    const args = [undefined, {}, gqlContext, { operation: { operation }, path: { key: 'onEvent' } }];
    const context = { getType: () => 'graphql', getArgByIndex: (index: number) => args[index] } as unknown as ExecutionContext;
    expect(() => backgroundFactory()(undefined, context)).toThrow(
      'BackgroundTasks is not supported in GraphQL subscriptions: their events go out over a WebSocket, with no response ' +
        'to wait for. Add the tasks in the mutation that publishes the event, or inject AppBackgroundTasks.',
    );
  });

  it('refuses constructor parameters', () => {
    class Service {}
    expect(() => Background()(Service, undefined, 0)).toThrow(
      '@Background() decorates handler parameters; to get BackgroundTasks in a constructor, inject it.',
    );
  });
});
