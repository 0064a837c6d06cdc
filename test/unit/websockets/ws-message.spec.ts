import type { ExecutionContext } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { GATEWAY_METADATA as NEST_GATEWAY_METADATA } from '@nestjs/websockets/constants.js';
import { GATEWAY_METADATA, wsOriginOf } from '../../../lib/websockets/ws-message.js';

/**
 * The library reads gateway and `@SubscribeMessage()` metadata without
 * loading the optional `@nestjs/websockets`, under its own copies of the
 * keys: pinned here to Nest's.
 */

const contextOf = (handler: (...args: never[]) => unknown) => ({ getHandler: () => handler }) as unknown as ExecutionContext;

describe("Nest's WebSocket metadata", () => {
  it("GATEWAY_METADATA is Nest's, and marks a @WebSocketGateway() class", () => {
    expect(GATEWAY_METADATA).toBe(NEST_GATEWAY_METADATA);
    @WebSocketGateway()
    class Gateway {}
    expect(Reflect.getMetadata(GATEWAY_METADATA, Gateway)).toBe(true);
  });

  it("reads the message name under Nest's MESSAGE_METADATA: a @SubscribeMessage('x') handler's origin has path 'x'", () => {
    class Gateway {
      @SubscribeMessage('x')
      onX() {}

      @SubscribeMessage('notes.add')
      onNote() {}
    }
    expect(wsOriginOf(contextOf(Gateway.prototype.onX))).toEqual({ transport: 'ws', method: 'WS', path: 'x' });
    expect(wsOriginOf(contextOf(Gateway.prototype.onNote)).path).toBe('notes.add');
  });
});
