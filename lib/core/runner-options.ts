import { availableParallelism } from 'node:os';
import { DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_THREAD_IDLE_TIMEOUT, MAX_TIMEOUT } from '../background-tasks.constants.js';
import {
  MIN_THREADS_ABOVE_MAX,
  MODULE_OPTION,
  MODULE_OPTIONS_NOT_AN_OBJECT,
  MUST_BE_BOOLEAN,
  MUST_BE_COUNT,
  MUST_BE_FUNCTION,
  MUST_BE_IDLE_TIMEOUT,
  MUST_BE_MEGABYTES,
  MUST_BE_ONE_OF,
  MUST_BE_RESOURCE_LIMITS,
  MUST_BE_THREAD_COUNT,
  MUST_BE_THREADS,
  MUST_BE_TIMEOUT,
  MUST_BE_TRACING,
  THREADS_OPTION,
  UNKNOWN_OPTION,
} from '../background-tasks.messages.js';
import type { BackgroundTaskHook } from '../interfaces/background-task-event.interface.js';
import type {
  BackgroundTasksMode,
  BackgroundTasksModuleOptions,
  BackgroundTasksOverflowPolicy,
  BackgroundTasksThreadsOptions,
  BackgroundTasksTracingOptions,
} from '../interfaces/background-tasks-module-options.interface.js';
import type { ThreadPoolOptions } from '../threads/thread-pool.js';
import { closest } from '../utils/closest.js';

export const HOOK_NAMES = [
  'onTaskQueued',
  'onTaskStarted',
  'onTaskSucceeded',
  'onTaskFailed',
  'onTaskTimedOut',
  'onTaskDropped',
  'onTaskCancelled',
] as const;

export type HookName = (typeof HOOK_NAMES)[number];

export type ResolvedTracingOptions = Readonly<Required<BackgroundTasksTracingOptions>>;

export interface ResolvedBackgroundTasksOptions extends Partial<Record<HookName, BackgroundTaskHook>> {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly overflow: BackgroundTasksOverflowPolicy;
  readonly taskTimeout: number;
  readonly shutdownTimeout: number;
  readonly mode: BackgroundTasksMode;
  /** `false` when off. One frozen object per choice, so that equal options compare equal. */
  readonly tracing: ResolvedTracingOptions | false;
  /** The pool of thread tasks. */
  readonly threads: ThreadPoolOptions;
  /** Whether tasks follow the transactions of `@nestjs-cls/transactional`. */
  readonly transactions: boolean;
}

const OPTION_NAMES: readonly string[] = [
  'concurrency',
  'maxQueued',
  'overflow',
  'taskTimeout',
  'shutdownTimeout',
  'mode',
  'tracing',
  'threads',
  'transactions',
  ...HOOK_NAMES,
];
const OVERFLOW_POLICIES: readonly BackgroundTasksOverflowPolicy[] = ['reject', 'drop-newest', 'drop-oldest'];
const MODES: readonly BackgroundTasksMode[] = ['background', 'inline', 'disabled'];
const TRACING_OPTION_NAMES: readonly string[] = ['parent', 'metrics'];
const THREADS_OPTION_NAMES: readonly string[] = ['maxThreads', 'minThreads', 'idleTimeout', 'resourceLimits'];
const RESOURCE_LIMIT_NAMES: readonly string[] = [
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
];
const TRACING_PARENTS: ReadonlyArray<ResolvedTracingOptions['parent']> = ['link', 'child'];

/** Applies defaults and rejects bad options at startup, naming the option. */
export function resolveOptions(options: BackgroundTasksModuleOptions = {}): ResolvedBackgroundTasksOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(MODULE_OPTIONS_NOT_AN_OBJECT(options));
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new TypeError(UNKNOWN_OPTION('BackgroundTasksModule', key, closest(key, OPTION_NAMES), OPTION_NAMES));
    }
  }
  // Defaults apply to undefined only: null is a mistake worth reporting.
  const {
    concurrency = Infinity,
    maxQueued = Infinity,
    overflow = 'reject',
    taskTimeout = Infinity,
    shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT,
    mode = 'background',
    tracing = false,
    threads = {},
    transactions = false,
  } = options;
  const resolved: ResolvedBackgroundTasksOptions = {
    concurrency: checkCount(concurrency, 'concurrency'),
    maxQueued: checkCount(maxQueued, 'maxQueued'),
    overflow: checkOneOf(overflow, OVERFLOW_POLICIES, 'overflow'),
    taskTimeout: checkTimeout(taskTimeout, moduleOption('taskTimeout')),
    shutdownTimeout: checkTimeout(shutdownTimeout, moduleOption('shutdownTimeout'), true),
    mode: checkOneOf(mode, MODES, 'mode'),
    tracing: checkTracing(tracing),
    threads: checkThreads(threads),
    transactions: checkBoolean(transactions, 'transactions'),
  };
  for (const name of HOOK_NAMES) {
    const hook = options[name];
    if (hook === undefined) continue;
    if (typeof hook !== 'function') throw new TypeError(MODULE_OPTION(name, MUST_BE_FUNCTION(hook)));
    (resolved as Record<HookName, BackgroundTaskHook>)[name] = hook;
  }
  return resolved;
}

/**
 * A timeout: a number of milliseconds that timers can wait (larger ones
 * would fire at once), or `Infinity` for none. Only shutdown may wait 0 ms.
 * `option` prefixes the problem with the option's name and owner.
 */
export function checkTimeout(value: unknown, option: (problem: string) => string, allowZero = false): number {
  const min = allowZero ? 0 : Number.MIN_VALUE;
  if (value === Infinity || (typeof value === 'number' && value >= min && value <= MAX_TIMEOUT)) return value;
  throw new TypeError(option(MUST_BE_TIMEOUT(allowZero, MAX_TIMEOUT, value)));
}

function checkTracing(value: unknown): ResolvedTracingOptions | false {
  if (value === false) return false;
  const options = value === true ? {} : value;
  checkKeys(options, TRACING_OPTION_NAMES, 'tracing', () => MUST_BE_TRACING(value));
  const { parent = 'link', metrics = true } = options as BackgroundTasksTracingOptions;
  if (typeof metrics !== 'boolean') throw new TypeError(MODULE_OPTION('tracing.metrics', MUST_BE_BOOLEAN(metrics)));
  return tracingChoice(checkOneOf(parent, TRACING_PARENTS, 'tracing.parent'), metrics);
}

function checkThreads(value: unknown): ThreadPoolOptions {
  checkKeys(value, THREADS_OPTION_NAMES, 'threads', MUST_BE_THREADS);
  // One thread fewer than the cores leaves one to the event loop, which thread tasks are there to keep free.
  const {
    maxThreads = Math.max(1, availableParallelism() - 1),
    minThreads = 0,
    idleTimeout = DEFAULT_THREAD_IDLE_TIMEOUT,
    resourceLimits,
  } = value as BackgroundTasksThreadsOptions;
  if (!Number.isInteger(maxThreads) || maxThreads < 1)
    throw new TypeError(THREADS_OPTION('maxThreads', MUST_BE_THREAD_COUNT(1, maxThreads)));
  if (!Number.isInteger(minThreads) || minThreads < 0) {
    throw new TypeError(THREADS_OPTION('minThreads', MUST_BE_THREAD_COUNT(0, minThreads)));
  }
  if (minThreads > maxThreads) throw new TypeError(MIN_THREADS_ABOVE_MAX(minThreads, maxThreads));
  // The pool's timer must fire: unlike a task's timeout, this one cannot be Infinity.
  if (!(typeof idleTimeout === 'number' && idleTimeout >= 0 && idleTimeout <= MAX_TIMEOUT)) {
    throw new TypeError(THREADS_OPTION('idleTimeout', MUST_BE_IDLE_TIMEOUT(MAX_TIMEOUT, idleTimeout)));
  }
  const checked = { maxThreads, minThreads, idleTimeout };
  if (resourceLimits === undefined) return frozenChoice(checked);
  checkKeys(resourceLimits, RESOURCE_LIMIT_NAMES, 'threads.resourceLimits', MUST_BE_RESOURCE_LIMITS);
  // In a set order, so that equal limits make equal choices.
  const limits: Record<string, number> = {};
  for (const name of RESOURCE_LIMIT_NAMES) {
    const limit = (resourceLimits as Record<string, unknown>)[name];
    if (limit === undefined) continue;
    if (!(typeof limit === 'number' && limit > 0 && Number.isFinite(limit))) {
      throw new TypeError(THREADS_OPTION(`resourceLimits.${name}`, MUST_BE_MEGABYTES(limit)));
    }
    limits[name] = limit;
  }
  return frozenChoice({ ...checked, resourceLimits: Object.freeze(limits) });
}

const threadsChoices = new Map<string, ThreadPoolOptions>();

/** One frozen object per choice of `threads`, so that equal options compare equal. */
function frozenChoice(threads: ThreadPoolOptions): ThreadPoolOptions {
  const key = JSON.stringify(threads);
  let choice = threadsChoices.get(key);
  if (choice === undefined) threadsChoices.set(key, (choice = Object.freeze(threads)));
  return choice;
}

/** Checks that `value` is an object with only `known` keys, naming the option `name`. */
function checkKeys(value: unknown, known: readonly string[], name: string, notAnObject: (value: unknown) => string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(MODULE_OPTION(name, notAnObject(value)));
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const owner = MODULE_OPTION(name, '').trimEnd();
      throw new TypeError(UNKNOWN_OPTION(owner, key, closest(key, known), known));
    }
  }
}

const tracingChoices = new Map<string, ResolvedTracingOptions>();

function tracingChoice(parent: ResolvedTracingOptions['parent'], metrics: boolean): ResolvedTracingOptions {
  const key = `${parent} ${metrics}`;
  let choice = tracingChoices.get(key);
  if (choice === undefined) tracingChoices.set(key, (choice = Object.freeze({ parent, metrics })));
  return choice;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new TypeError(MODULE_OPTION(name, MUST_BE_BOOLEAN(value)));
}

function checkCount(value: unknown, name: string): number {
  if (value === Infinity || (typeof value === 'number' && Number.isInteger(value) && value > 0)) return value;
  throw new TypeError(MODULE_OPTION(name, MUST_BE_COUNT(value)));
}

function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (allowed.includes(value as T)) return value as T;
  throw new TypeError(MODULE_OPTION(name, MUST_BE_ONE_OF(allowed, value)));
}

function moduleOption(name: string): (problem: string) => string {
  return (problem) => MODULE_OPTION(name, problem);
}
