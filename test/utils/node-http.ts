import type { IncomingMessage, ServerResponse } from 'node:http';

// Fixtures get Nest's request and response objects: Node's own on Express,
// wrappers that keep them as `raw` on Fastify. These reach the Node objects on both.

/** The Node response under `@Res()`: Express's response, or Fastify's `reply.raw`. */
export function nodeResponse(response: object): ServerResponse {
  return (response as { raw?: ServerResponse }).raw ?? (response as ServerResponse);
}

/** The Node request under `@Req()`: Express's request, or Fastify's `request.raw`. */
export function nodeRequest(request: object): IncomingMessage {
  return (request as { raw?: IncomingMessage }).raw ?? (request as IncomingMessage);
}
