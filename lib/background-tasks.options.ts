import { DEFAULT_SHUTDOWN_TIMEOUT } from './background-tasks.constants.js';
import type { BackgroundTasksModuleOptions } from './interfaces/background-tasks-module-options.interface.js';

export type ResolvedBackgroundTasksOptions = Required<Pick<BackgroundTasksModuleOptions, 'shutdownTimeout'>> &
  BackgroundTasksModuleOptions;

/** Applies defaults and rejects bad options at startup, naming the option. */
export function resolveOptions(options: BackgroundTasksModuleOptions = {}): ResolvedBackgroundTasksOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`BackgroundTasksModule: options must be an object, got ${String(options)}.`);
  }
  const { shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT, onTaskError } = options;
  if (typeof shutdownTimeout !== 'number' || Number.isNaN(shutdownTimeout) || shutdownTimeout < 0) {
    throw new TypeError(
      `BackgroundTasksModule: option "shutdownTimeout" must be a non-negative number of milliseconds (or Infinity), got ${typeof shutdownTimeout === 'string' ? JSON.stringify(shutdownTimeout) : String(shutdownTimeout)}.`,
    );
  }
  if (onTaskError !== undefined && typeof onTaskError !== 'function') {
    throw new TypeError(`BackgroundTasksModule: option "onTaskError" must be a function, got ${typeof onTaskError}.`);
  }
  return { ...options, shutdownTimeout };
}
