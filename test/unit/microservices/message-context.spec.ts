import type { ExecutionContext } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { PATTERN_METADATA } from '@nestjs/microservices/constants.js';
import { MESSAGE_PATTERN_METADATA, messageOriginOf } from '../../../lib/microservices/message-context.js';

/**
 * The library reads `@MessagePattern()`/`@EventPattern()` metadata without
 * loading the optional `@nestjs/microservices`, under its own copy of the
 * key: pinned here to Nest's, so that a Nest release that renames it fails
 * this test instead of naming every message "undefined".
 */

const contextOf = (handler: (...args: never[]) => unknown) => ({ getHandler: () => handler }) as unknown as ExecutionContext;

describe("Nest's microservice metadata", () => {
  it("MESSAGE_PATTERN_METADATA is Nest's PATTERN_METADATA", () => {
    expect(MESSAGE_PATTERN_METADATA).toBe(PATTERN_METADATA);
  });

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
