import type { DiscoveryService, ModulesContainer } from '@nestjs/core';

/**
 * What this package reads or changes of Nest beyond its documented API, in
 * one place: `test/unit/internals/nest-internals.spec.ts` pins each against
 * the real packages, so that a Nest upgrade that changes one fails there,
 * loudly. Optional packages (`@nestjs/microservices`, `@nestjs/websockets`)
 * are read without being loaded.
 */

/** A provider or controller as Nest's container holds it: its `InstanceWrapper`. */
export type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** `@MessagePattern()` and `@EventPattern()` on a handler: `@nestjs/microservices`'s `PATTERN_METADATA`. */
export const MESSAGE_PATTERN_METADATA = 'microservices:pattern';

/** `@WebSocketGateway()` on a class: `@nestjs/websockets`'s `GATEWAY_METADATA`. */
export const GATEWAY_METADATA = 'websockets:is_gateway';

/** `@SubscribeMessage()`'s message name on a handler: `@nestjs/websockets`'s `MESSAGE_METADATA`. */
export const WS_MESSAGE_METADATA = 'message';

/** What TypeScript records of a method's parameter types, and Nest hands to pipes as each parameter's `metatype`. */
const PARAMTYPES_METADATA = 'design:paramtypes';

/** Whether the provider is request-scoped, itself or through what it depends on. */
export function isRequestScoped(wrapper: InstanceWrapper): boolean {
  return !wrapper.isDependencyTreeStatic();
}

/** Whether the provider is durable (`durable: true`): one instance per tenant. */
export function isDurable(wrapper: InstanceWrapper): boolean {
  return wrapper.durable === true;
}

/** What the provider's constructor and properties inject, as wrappers. */
export function dependenciesOf(wrapper: InstanceWrapper): InstanceWrapper[] {
  const properties = (wrapper.getPropertiesMetadata() ?? []).map((property) => property.wrapper);
  return [...(wrapper.getCtorMetadata() ?? []), ...properties].filter((dependency) => dependency !== undefined);
}

/**
 * Declares a method's parameter as `Object` to pipes, which leave such a
 * parameter alone: a ValidationPipe with `transform` or `whitelist` would
 * build a copy of a declared class instead.
 */
export function hideParamType(target: object, method: string | symbol, index: number): void {
  const types = Reflect.getMetadata(PARAMTYPES_METADATA, target, method) as unknown[] | undefined;
  if (types === undefined || types[index] === Object) return;
  const hidden = [...types];
  hidden[index] = Object;
  Reflect.defineMetadata(PARAMTYPES_METADATA, hidden, target, method);
}

/** The provider of `token` in each module instance of the app: an import of a dynamic module is one. */
export function providersOf(modules: ModulesContainer, token: unknown): InstanceWrapper[] {
  const found: InstanceWrapper[] = [];
  for (const module of modules.values()) {
    const wrapper = module.providers.get(token as string);
    if (wrapper !== undefined) found.push(wrapper);
  }
  return found;
}

/** Whether the provider is given as a value (`useValue`), whose instance is known before anything is created. */
export function isValueProvider(wrapper: InstanceWrapper): boolean {
  return !wrapper.metatype;
}

/**
 * Calls `listener` with each microservice server of the app, and each
 * created later: Nest adds each to its RPC target registry when it creates
 * it, after the app's providers and before the server listens; the registry
 * replays those added before.
 */
export function onEachRpcTarget(modules: ModulesContainer, listener: (target: unknown) => void): void {
  modules.getRpcTargetRegistry<unknown>().subscribe(listener);
}

/** What Nest registers per pattern on a microservice server: called with the payload and the message's context, it resolves to the answer. */
export type MessageHandler = (payload: unknown, messageContext: unknown, ...rest: unknown[]) => Promise<unknown>;

/**
 * What the package needs of a `@nestjs/microservices` `Server`, read without
 * loading that optional package: its handlers by pattern, which the
 * transports look up in that map (per message, or, as gRPC, when they start
 * listening), and `listen()`, which Nest calls once they are all registered.
 */
export interface MessageServer {
  getHandlers(): Map<string, MessageHandler>;
  listen(...args: unknown[]): unknown;
}

export function isMessageServer(target: unknown): target is MessageServer {
  const candidate = target as Partial<MessageServer> | null;
  return typeof candidate?.getHandlers === 'function' && typeof candidate.listen === 'function';
}

const wrappedServers = new WeakSet<MessageServer>();
const wrappers = new WeakSet<MessageHandler>();

/**
 * Replaces each handler of the server with `wrap(handler)` when it starts
 * listening, once: the replacement keeps what the transports read of a
 * handler (`isEventHandler`, `extras`, the next handler of an event).
 */
export function wrapHandlersOnListen(server: MessageServer, wrap: (handler: MessageHandler) => MessageHandler): void {
  if (wrappedServers.has(server)) return;
  wrappedServers.add(server);
  const listen = server.listen.bind(server);
  server.listen = (...args) => {
    const handlers = server.getHandlers();
    for (const [pattern, handler] of handlers) {
      if (wrappers.has(handler)) continue;
      const wrapper = Object.assign(wrap(handler), handler);
      wrappers.add(wrapper);
      handlers.set(pattern, wrapper);
    }
    return listen(...args);
  };
}
