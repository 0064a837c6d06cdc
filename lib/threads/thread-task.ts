import { pathToFileURL } from 'node:url';
import {
  MUST_BE_BOOLEAN,
  THREAD_TASK_FN,
  THREAD_TASK_OPTION,
  THREAD_TASK_OPTIONS,
  THREAD_TASK_URL,
  UNKNOWN_OPTION,
} from '../background-tasks.messages.js';

/**
 * The key of a thread task's definition on its handle. A registered symbol,
 * so that a handle made by another copy of this package (a thread module
 * that loads it from elsewhere) is recognised too.
 */
const DEFINITION: unique symbol = Symbol.for('nestjs-background-tasks.thread-task');

/** Options of {@link threadTask}. */
export interface ThreadTaskOptions {
  /**
   * Moves the `ArrayBuffer`s of the task's `Buffer`, typed-array and
   * `ArrayBuffer` arguments to the thread instead of copying them: they are
   * empty (detached) on the calling side once the task starts. For large
   * binary inputs that the caller no longer needs.
   *
   * @default false
   */
  readonly transfer?: boolean;
}

/**
 * A function that runs in a worker thread of the module's pool, made by
 * {@link threadTask}. Pass it to `addTask()` with its arguments, as any task;
 * it is not called directly.
 */
export interface ThreadTask<Args extends unknown[] = unknown[]> {
  /** The task function's name, which names the task in logs, hooks and spans. */
  readonly name: string;
  /** Only its arguments' types matter: they are type-checked at `addTask()`. */
  readonly [DEFINITION]: ThreadTaskDefinition & { readonly fn: (...args: Args) => unknown };
}

/** What the pool needs to run a thread task: the module it lives in, and its function. */
export interface ThreadTaskDefinition {
  /** The `file:` URL of the module that defines it, which each thread loads. */
  readonly moduleUrl: string;
  readonly fn: (...args: never[]) => unknown;
  readonly transfer: boolean;
}

/**
 * Declares a thread task: `fn` runs in a worker thread of a pool, off the
 * event loop, so that CPU-heavy work does not stall the app's requests.
 * Call it at the top level of a module of its own and export the result;
 * each thread loads that module and calls `fn` there, so `fn` uses only what
 * the module imports, never variables of its caller. Its arguments are
 * structured-cloned, and what it returns is ignored.
 *
 * @example
 * ```ts
 * // hash.task.ts
 * import { threadTask } from 'nestjs-background-tasks/threads';
 *
 * export const hashFile = threadTask(import.meta.url, function hashFile(path: string) {
 *   // … CPU work
 * });
 *
 * // in a controller
 * this.tasks.addTask(hashFile, path);
 * ```
 *
 * @param moduleUrl the module's own `import.meta.url`; in CommonJS, `__filename`.
 * @param fn the task function, sync or async.
 * @throws {TypeError} when `moduleUrl` is not a `file:` URL or an absolute path, or `fn` is not a function.
 */
export function threadTask<Args extends unknown[]>(
  moduleUrl: string,
  fn: (...args: Args) => unknown,
  options: ThreadTaskOptions = {},
): ThreadTask<Args> {
  const definition: ThreadTaskDefinition = {
    moduleUrl: fileUrlOf(moduleUrl),
    fn: checkFunction(fn),
    transfer: checkOptions(options).transfer ?? false,
  };
  // What the pool calls in the thread, with the arguments in one array.
  const handle = (args: unknown[]) => (fn as (...args: unknown[]) => unknown)(...args);
  Object.defineProperty(handle, 'name', { value: fn.name || 'anonymous' });
  Object.defineProperty(handle, DEFINITION, { value: definition });
  return handle as unknown as ThreadTask<Args>;
}

/** The definition of `value`, if it is a thread task's handle. */
export function threadTaskOf(value: unknown): ThreadTaskDefinition | undefined {
  return typeof value === 'function' ? (value as Partial<ThreadTask>)[DEFINITION] : undefined;
}

function fileUrlOf(moduleUrl: unknown): string {
  if (typeof moduleUrl === 'string') {
    if (moduleUrl.startsWith('file:')) return moduleUrl;
    if (/^(\/|[A-Za-z]:[\\/])/.test(moduleUrl)) return pathToFileURL(moduleUrl).href;
  }
  throw new TypeError(THREAD_TASK_URL(moduleUrl));
}

function checkOptions(options: unknown): ThreadTaskOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(THREAD_TASK_OPTIONS(options));
  for (const key of Object.keys(options)) {
    if (key !== 'transfer') throw new TypeError(UNKNOWN_OPTION('threadTask()', key, undefined, ['transfer']));
  }
  const { transfer } = options as ThreadTaskOptions;
  if (transfer !== undefined && typeof transfer !== 'boolean') {
    throw new TypeError(THREAD_TASK_OPTION('transfer', MUST_BE_BOOLEAN(transfer)));
  }
  return options;
}

function checkFunction<F>(fn: F): F {
  if (typeof fn !== 'function') throw new TypeError(THREAD_TASK_FN(fn));
  return fn;
}
