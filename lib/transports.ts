import type { ExecutionContext } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_RUNNER, RAW_RESPONSE } from './background-tasks.constants.js';
import type { BackgroundTasks } from './background-tasks.service.js';
import type { BackgroundTaskTransport } from './interfaces/background-task-event.interface.js';
import type { BackgroundTaskRunner } from './task-runner.js';

/** Where a request's, or a message's, tasks come from, as events report it. */
export interface TaskOrigin {
  readonly transport: BackgroundTaskTransport;
  readonly method: string;
  readonly path: string;
}

// Read from handler metadata, so that the optional transport packages need not be loaded.
export const MESSAGE_PATTERN_METADATA = 'microservices:pattern';
export const GATEWAY_METADATA = 'websockets:is_gateway';
const WS_MESSAGE_METADATA = 'message';

/**
 * A WebSocket message has no object of its own to keep its tasks on (the
 * client is shared by all its messages), so the interceptor hands them to
 * `@Background()` through the async context of the handler's pipeline.
 */
export const wsMessageTasks = new AsyncLocalStorage<BackgroundTasks>();

/**
 * The object that keeps the tasks of what a context handles: the Node HTTP
 * request, or the message's transport context (one per message).
 */
export function carrierOf(context: ExecutionContext, type = context.getType()): object | undefined {
  // getArgByIndex() rather than switchToHttp(), which builds closures on every call.
  if (type === 'http') return nodeRequestOf(context.getArgByIndex<object>(0));
  if (type !== 'rpc') return undefined;
  const messageContext: unknown = context.getArgByIndex(1);
  return typeof messageContext === 'object' && messageContext !== null ? messageContext : undefined;
}

/** Events name a message by its pattern, and a WebSocket message by its name. */
export function originOf(context: ExecutionContext): TaskOrigin | undefined {
  const type = context.getType();
  if (type === 'rpc') {
    const patterns = Reflect.getMetadata(MESSAGE_PATTERN_METADATA, context.getHandler()) as unknown[] | undefined;
    return messageOrigin(patterns?.[0]);
  }
  if (type === 'ws') {
    return { transport: 'ws', method: 'WS', path: String(Reflect.getMetadata(WS_MESSAGE_METADATA, context.getHandler())) };
  }
  return undefined;
}

/** An HTTP request's origin: the path is cut from the URL only when an event or a log line asks for it. */
class HttpOrigin implements TaskOrigin {
  readonly transport = 'http';

  constructor(
    readonly method: string,
    private readonly url: string,
  ) {}

  get path(): string {
    return this.url.split('?', 1)[0];
  }
}

export function httpOrigin(request: object): TaskOrigin {
  const { method = '', url = '' } = request as Partial<IncomingMessage>;
  return new HttpOrigin(method, (request as { originalUrl?: string }).originalUrl ?? url);
}

export function messageOrigin(pattern: unknown): TaskOrigin {
  return { transport: 'rpc', method: 'RPC', path: typeof pattern === 'string' ? pattern : JSON.stringify(pattern) };
}

/** What Nest injects as REQUEST in a message handler. */
export interface MessageRequest {
  getPattern(): unknown;
  getContext(): unknown;
}

export function isMessageRequest(request: object): request is MessageRequest {
  const candidate = request as Partial<MessageRequest>;
  return typeof candidate.getPattern === 'function' && typeof candidate.getContext === 'function';
}

/** Express and Fastify requests; not a WebSocket client. */
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
  return (request as { res?: ServerResponse }).res ?? (request as { [RAW_RESPONSE]?: ServerResponse })[RAW_RESPONSE];
}

/** Fastify middleware: links the raw request to its raw response, as Express does. */
export function linkRawResponse(request: IncomingMessage, response: ServerResponse, next: () => void): void {
  (request as { [RAW_RESPONSE]?: ServerResponse })[RAW_RESPONSE] = response;
  next();
}

interface RunnerHolder {
  [HTTP_RUNNER]?: BackgroundTaskRunner;
}

/** Lets `@Background()` reach the runner from a request of this HTTP adapter instance (Express app, Fastify instance). */
export function registerRunner(adapterInstance: object, runner: BackgroundTaskRunner): void {
  (adapterInstance as RunnerHolder)[HTTP_RUNNER] = runner;
}

/**
 * The runner of the app that serves this request: Express requests know
 * their app, Fastify requests their instance (whose plugin contexts inherit
 * from it).
 */
export function runnerOf(request: object): BackgroundTaskRunner | undefined {
  const holder = (request as { app?: RunnerHolder }).app ?? (request as { server?: RunnerHolder }).server;
  return holder?.[HTTP_RUNNER];
}
