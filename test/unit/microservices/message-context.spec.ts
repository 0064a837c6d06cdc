import type { ExecutionContext } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { messageOriginOf } from '../../../lib/microservices/message-context.js';

/** How a message is named: its metadata key is pinned in nest-internals.spec.ts. */

const contextOf = (handler: (...args: never[]) => unknown) => ({ getHandler: () => handler }) as unknown as ExecutionContext;

describe("Nest's microservice metadata", () => {
  it.each([
    ['@MessagePattern', MessagePattern],
    ['@EventPattern', EventPattern],
  ])('names a message by the pattern of its %s() handler', (_, decorator) => {
    class Handlers {
      @decorator('orders.created')
      byString() {}

      @decorator({ cmd: 'sum' })
      byObject() {}
    }
    expect(messageOriginOf(contextOf(Handlers.prototype.byString))).toEqual({
      transport: 'rpc',
      method: 'RPC',
      path: 'orders.created',
    });
    expect(messageOriginOf(contextOf(Handlers.prototype.byObject)).path).toBe('{"cmd":"sum"}');
  });
});
