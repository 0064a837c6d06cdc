import type { ExecutionContext } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestBackgroundTasks } from '../core/request-background-tasks.js';
import type { TaskOrigin } from '../core/task-owner.js';
import { WS_MESSAGE_METADATA } from '../internals/nest-internals.js';

/**
 * A WebSocket message has no object of its own to keep its tasks on (the
 * client is shared by all its messages), so the interceptor hands them to
 * `@Background()` through the async context of the handler's pipeline.
 */
export const wsMessageTasks = new AsyncLocalStorage<RequestBackgroundTasks>();

/** Events name a WebSocket message by its name. */
export function wsOriginOf(context: ExecutionContext): TaskOrigin {
  return { transport: 'ws', method: 'WS', path: String(Reflect.getMetadata(WS_MESSAGE_METADATA, context.getHandler())) };
}

/** What Nest injects as REQUEST in a gateway: the `ws` client (or a socket.io socket). */
export function isWsClient(request: object): boolean {
  const client = request as { send?: unknown; readyState?: unknown; emit?: unknown; handshake?: unknown };
  return (
    (typeof client.send === 'function' && typeof client.readyState === 'number') ||
    (typeof client.emit === 'function' && typeof client.handshake === 'object')
  );
}
