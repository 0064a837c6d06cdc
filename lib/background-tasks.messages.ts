import { describe } from './utils/describe.js';

// Every error and log line of the module, each saying what to do. docs/errors.md lists them.

export const NOT_A_FUNCTION = (method: string, position: string, value: unknown): string =>
  `BackgroundTasks.${method}() expects a function as its ${position} argument, got ${describe(value)}.`;

export const OPTIONS_NOT_AN_OBJECT = (value: unknown): string =>
  `BackgroundTasks.addTaskWithOptions() expects an options object first, got ${describe(value)}.`;

/** Prefixes what is wrong with one option of `addTaskWithOptions()`. */
export const TASK_OPTION = (name: string, problem: string): string =>
  `BackgroundTasks.addTaskWithOptions(): option "${name}" ${problem}`;

export const QUEUE_FULL = (taskName: string, maxQueued: number): string =>
  `Background task "${taskName}" was not accepted: the queue is full (maxQueued: ${maxQueued}).`;

export const MODULE_OPTIONS_NOT_AN_OBJECT = (value: unknown): string =>
  `BackgroundTasksModule: options must be an object, got ${describe(value)}.`;

/** Prefixes what is wrong with one option of the module. */
export const MODULE_OPTION = (name: string, problem: string): string => `BackgroundTasksModule: option "${name}" ${problem}`;

export const MUST_BE_COUNT = (value: unknown): string => `must be a positive integer or Infinity, got ${describe(value)}.`;

export const MUST_BE_ONE_OF = (allowed: readonly string[], value: unknown): string =>
  `must be one of ${allowed.map((choice) => `'${choice}'`).join(', ')}; got ${describe(value)}.`;

export const MUST_BE_TIMEOUT = (allowZero: boolean, max: number, value: unknown): string =>
  `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, at most ${max}, or Infinity; got ${describe(value)}.`;

export const MUST_BE_FUNCTION = (value: unknown): string => `must be a function, got ${describe(value)}.`;

export const MUST_BE_NAME = (value: unknown): string => `must be a non-empty string, got ${describe(value)}.`;

export const MUST_BE_BOOLEAN = (value: unknown): string => `must be a boolean, got ${describe(value)}.`;

export const NO_RESPONSE =
  'BackgroundTasks found no response for this HTTP request, so its tasks could never run. ' +
  'Import BackgroundTasksModule in the root module, and let Nest apply middleware to every route.';

export const REQUESTED_TOO_LATE =
  'BackgroundTasks was requested after the handler had started, for a message that does not use it ' +
  '(for example through ModuleRef.resolve() inside a message handler). Inject BackgroundTasks into a constructor, ' +
  'or take it as a @Background() handler parameter, so that the message is prepared to run tasks.';

export const CONNECTION_SCOPED =
  'BackgroundTasks cannot be injected here: Nest creates request-scoped providers once per WebSocket connection, ' +
  'not per message. Take @Background() as a parameter of the @SubscribeMessage() handler instead.';

export const BACKGROUND_ON_CONSTRUCTOR =
  '@Background() decorates handler parameters; to get BackgroundTasks in a constructor, inject it.';

export const BACKGROUND_WITHOUT_MODULE = (what: 'request' | 'message'): string =>
  `@Background() found no BackgroundTasks for this ${what}: import BackgroundTasksModule in the root module.`;

export const BACKGROUND_UNSUPPORTED = (type: string): string =>
  `@Background() is not supported in ${type} handlers, only in HTTP, microservice and WebSocket ones.`;

export const TASK_FAILED = (name: string, method: string, path: string, error: string): string =>
  `Background task "${name}" of ${method} ${path} failed: ${error}`;

export const TASK_TIMED_OUT = (name: string, method: string, path: string, timeout: number): string =>
  `Background task "${name}" of ${method} ${path} timed out after ${timeout} ms.`;

export const TASK_TIMEOUT_ERROR = (name: string, timeout: number): string =>
  `Background task "${name}" timed out after ${timeout} ms.`;

export const TASK_DROPPED_OVERFLOW = (name: string, method: string, path: string, maxQueued: number): string =>
  `Background task "${name}" of ${method} ${path} was dropped: the queue is full (maxQueued: ${maxQueued}).`;

export const HOOK_THREW = (hook: string, error: string): string => `${hook} threw: ${error}`;

export const SHUTDOWN_EXPIRED = (timeout: number, entries: readonly string[]): string =>
  `Shutdown timeout of ${timeout} ms expired; running tasks have their signal aborted, queued ones are dropped: ${entries.join(', ')}`;

export const SHUTTING_DOWN = 'The application is shutting down.';
