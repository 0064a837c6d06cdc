import type { FactoryProvider } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { TaskRunner } from '../core/task-runner.js';
import { GATEWAY_METADATA, MESSAGE_PATTERN_METADATA } from '../internals/nest-internals.js';
import { BackgroundTasksInterceptor } from './background-tasks.interceptor.js';

/**
 * The global interceptor, only in apps that need one: apps with message
 * handlers or WebSocket gateways, and `mode: 'inline'`. An HTTP request's
 * outcome is its status, and a GraphQL field's comes from its resolver in
 * the schema, so HTTP and GraphQL apps go without, as any global
 * interceptor costs Nest a fifth of a trivial route's CPU time. Nest skips
 * an `APP_INTERCEPTOR` factory that returns nothing. Each import of the
 * module has this provider; only the first of an app's runner creates one.
 */
export const backgroundTasksInterceptorProvider: FactoryProvider<BackgroundTasksInterceptor | undefined> = {
  provide: APP_INTERCEPTOR,
  inject: [TaskRunner, Reflector, DiscoveryService, MetadataScanner],
  useFactory: (runner: TaskRunner, reflector: Reflector, discovery: DiscoveryService, scanner: MetadataScanner) => {
    if (intercepted.has(runner)) return undefined;
    intercepted.add(runner);
    const needed = runner.options.mode === 'inline' || handlesMessages(discovery, scanner);
    return needed ? new BackgroundTasksInterceptor(runner, reflector) : undefined;
  },
};

/** The runners that have their interceptor (or were found not to need one). */
const intercepted = new WeakSet<TaskRunner>();

/** Whether any controller has a message handler, or any provider is a WebSocket gateway. */
function handlesMessages(discovery: DiscoveryService, scanner: MetadataScanner): boolean {
  const hasMessageHandler = discovery.getControllers().some(({ metatype }) => {
    const prototype = (metatype as { prototype?: Record<string, object> } | null)?.prototype;
    return (
      prototype !== undefined &&
      scanner.getAllMethodNames(prototype).some((name) => Reflect.hasMetadata(MESSAGE_PATTERN_METADATA, prototype[name]))
    );
  });
  const hasGateway = discovery
    .getProviders()
    .some(({ metatype }) => !!metatype && Reflect.hasMetadata(GATEWAY_METADATA, metatype));
  return hasMessageHandler || hasGateway;
}
