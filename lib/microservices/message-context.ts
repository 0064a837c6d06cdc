import type { ExecutionContext } from '@nestjs/common';
import type { TaskOrigin } from '../core/task-owner.js';
import { MESSAGE_PATTERN_METADATA } from '../internals/nest-internals.js';

/** What Nest injects as REQUEST in a message handler. */
export interface MessageRequest {
  getPattern(): unknown;
  getContext(): unknown;
}

export function isMessageRequest(request: object): request is MessageRequest {
  const candidate = request as Partial<MessageRequest>;
  return typeof candidate.getPattern === 'function' && typeof candidate.getContext === 'function';
}

/** The message's transport context (a `TcpContext`, say): one per message, so it keeps the message's tasks. */
export function messageContextOf(context: ExecutionContext): object | undefined {
  const messageContext: unknown = context.getArgByIndex(1);
  return typeof messageContext === 'object' && messageContext !== null ? messageContext : undefined;
}

/** Events name a message by its pattern. */
export function messageOrigin(pattern: unknown): TaskOrigin {
  return { transport: 'rpc', method: 'RPC', path: typeof pattern === 'string' ? pattern : JSON.stringify(pattern) };
}

export function messageOriginOf(context: ExecutionContext): TaskOrigin {
  const patterns = Reflect.getMetadata(MESSAGE_PATTERN_METADATA, context.getHandler()) as unknown[] | undefined;
  return messageOrigin(patterns?.[0]);
}
