import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { BACKGROUND_TASK_HANDLER_METADATA } from '../background-tasks.constants.js';
import {
  HANDLER_OPTION,
  MUST_BE_INTEGER,
  MUST_BE_NAME,
  MUST_BE_TIMEOUT,
  REQUEST_SCOPED_HANDLER,
  UNKNOWN_OPTION,
} from '../background-tasks.messages.js';
import type { TaskHandlers } from '../core/task-handlers.js';
import type { BackgroundTaskHandlerOptions } from '../interfaces/background-task-handler-options.interface.js';
import { isRequestScoped } from '../internals/nest-internals.js';
import { closest } from '../utils/closest.js';

const OPTION_NAMES = ['name', 'attempts', 'backoff', 'priority', 'delay', 'removeOnComplete', 'removeOnFail'];

/** Registers every `@BackgroundTaskHandler()` method of the app's providers, checking their options. */
export function discoverHandlers(discovery: DiscoveryService, scanner: MetadataScanner, handlers: TaskHandlers): void {
  for (const wrapper of discovery.getProviders()) {
    const instance = wrapper.instance as object | undefined;
    if (instance === null || typeof instance !== 'object') continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    for (const method of scanner.getAllMethodNames(prototype)) {
      const fn = prototype[method] as (...args: never[]) => unknown;
      const options = Reflect.getMetadata(BACKGROUND_TASK_HANDLER_METADATA, fn) as BackgroundTaskHandlerOptions | undefined;
      if (options === undefined) continue;
      const name = checkHandlerOptions(options, `${instance.constructor.name}.${method}`);
      if (isRequestScoped(wrapper)) throw new Error(REQUEST_SCOPED_HANDLER(name));
      handlers.register({ name, fn, instance, options });
    }
  }
}

/** Rejects what BullMQ would reject later, or ignore, at startup. Returns the handler's name. */
function checkHandlerOptions(options: BackgroundTaskHandlerOptions, defaultName: string): string {
  const { name = defaultName, attempts, priority, delay } = options;
  const problem = (option: string, message: string) => new TypeError(HANDLER_OPTION(name, option, message));
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new TypeError(UNKNOWN_OPTION(`@BackgroundTaskHandler() of "${name}"`, key, closest(key, OPTION_NAMES), OPTION_NAMES));
    }
  }
  if (typeof name !== 'string' || name === '') throw problem('name', MUST_BE_NAME(name));
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts > 0))
    throw problem('attempts', MUST_BE_INTEGER(1, attempts));
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= 0))
    throw problem('priority', MUST_BE_INTEGER(0, priority));
  if (delay !== undefined && !(typeof delay === 'number' && delay >= 0 && delay < Infinity)) {
    throw problem('delay', MUST_BE_TIMEOUT(true, Number.MAX_SAFE_INTEGER, delay));
  }
  return name;
}
