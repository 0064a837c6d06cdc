import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a Fastify request's raw Node request keeps its raw response, which Fastify does not link. */
const RAW_RESPONSE = Symbol('nestjs-background-tasks:raw-response');

interface LinkedRequest extends IncomingMessage {
  [RAW_RESPONSE]?: ServerResponse;
}

/** Express and Fastify requests, as Nest injects them as REQUEST. */
export function isHttpRequest(request: object): boolean {
  const candidate = request as { method?: unknown; headers?: unknown };
  return typeof candidate.method === 'string' && typeof candidate.headers === 'object';
}

/**
 * The Node request under an HTTP request: Express's is one, Fastify's
 * request wraps it. Tasks live on it, where its response finds them.
 */
export function nodeRequestOf(request: object): IncomingMessage {
  // Asks for what an Express request has: a property that is missing costs more to look up.
  if ((request as { res?: ServerResponse }).res !== undefined) return request as IncomingMessage;
  return (request as { raw?: IncomingMessage }).raw ?? (request as IncomingMessage);
}

/**
 * The Node response of a Node request, for tasks added before a handler
 * runs. Express links it; on Fastify, the module's middleware does.
 */
export function responseOf(request: IncomingMessage): ServerResponse | undefined {
  return (request as { res?: ServerResponse }).res ?? (request as LinkedRequest)[RAW_RESPONSE];
}

/** Fastify middleware: links the raw request to its raw response, as Express does. */
export function linkRawResponse(request: IncomingMessage, response: ServerResponse, next: () => void): void {
  (request as LinkedRequest)[RAW_RESPONSE] = response;
  next();
}
