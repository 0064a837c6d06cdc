import type { ExecutionContext } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { GATEWAY_METADATA } from '../../../lib/internals/nest-internals.js';
import { wsOriginOf } from '../../../lib/websockets/ws-message.js';

/** How a WebSocket message is named; the metadata keys are pinned in nest-internals.spec.ts. */

const contextOf = (handler: (...args: never[]) => unknown) => ({ getHandler: () => handler }) as unknown as ExecutionContext;

describe("Nest's WebSocket metadata", () => {
  it('finds a @WebSocketGateway() class by its metadata', () => {
    @WebSocketGateway()
    class Gateway {}
    expect(Reflect.getMetadata(GATEWAY_METADATA, Gateway)).toBe(true);
  });

  it("names a message by its @SubscribeMessage() name: a @SubscribeMessage('x') handler's origin has path 'x'", () => {
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
