import type { BackendFactory, DefaultJobOptions } from 'bullmq';
import {
  BULLMQ_NO_CONNECTION,
  BULLMQ_OPTION,
  BULLMQ_OPTIONS_NOT_AN_OBJECT,
  MUST_BE_BOOLEAN,
  MUST_BE_FUNCTION,
  MUST_BE_NAME,
  MUST_BE_OBJECT,
  MUST_BE_ONE_OF,
  MUST_BE_WORKER,
  UNKNOWN_OPTION,
} from '../background-tasks.messages.js';
import { checkTimeout } from '../core/runner-options.js';
import { closest } from '../utils/closest.js';
import type {
  BackgroundTasksBullMQOptions,
  BackgroundTasksEnqueueFailurePolicy,
  BackgroundTasksWorkerOptions,
} from './bullmq-options.interface.js';

/** What `BullModule.forRoot()` of `@nestjs/bullmq` provides, of which the module reuses two fields. */
export interface SharedBullConfig {
  readonly connection?: unknown;
  readonly prefix?: string;
}

export interface ResolvedBullMQOptions {
  readonly connection: unknown;
  readonly queueName: string;
  readonly prefix?: string;
  readonly defaultJobOptions: DefaultJobOptions;
  /** `undefined`: a web-only process. */
  readonly worker?: BackgroundTasksWorkerOptions;
  readonly enqueueTimeout: number;
  readonly onEnqueueFailure: BackgroundTasksEnqueueFailurePolicy;
  readonly requireDurable: boolean;
  readonly unknownHandlerTimeout: number;
  /** Whatever its connection type: the module hands it the connection it was given. */
  readonly backend?: BackendFactory;
}

const OPTION_NAMES = [
  'connection',
  'queueName',
  'prefix',
  'defaultJobOptions',
  'worker',
  'enqueueTimeout',
  'onEnqueueFailure',
  'requireDurable',
  'unknownHandlerTimeout',
  'backend',
];
const POLICIES: readonly BackgroundTasksEnqueueFailurePolicy[] = ['run-in-process', 'drop'];

/** Finished jobs do not pile up in Redis, with whatever personal data their arguments hold. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: { count: 1000, age: 24 * 3600 },
  removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
};

/** Long enough for a rolling deploy to bring up a worker with a new handler. */
const DEFAULT_UNKNOWN_HANDLER_TIMEOUT = 10 * 60_000;

/** Applies defaults and rejects bad options at startup, naming the option. */
export function resolveBullMQOptions(options: BackgroundTasksBullMQOptions, shared?: SharedBullConfig): ResolvedBullMQOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(BULLMQ_OPTIONS_NOT_AN_OBJECT(options));
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new TypeError(UNKNOWN_OPTION('BackgroundTasksBullMQModule', key, closest(key, OPTION_NAMES), OPTION_NAMES));
    }
  }
  const {
    connection = shared?.connection,
    queueName = 'background-tasks',
    prefix = shared?.prefix,
    defaultJobOptions = {},
    worker = true,
    enqueueTimeout = 1000,
    onEnqueueFailure = 'run-in-process',
    requireDurable = false,
    unknownHandlerTimeout = DEFAULT_UNKNOWN_HANDLER_TIMEOUT,
    backend,
  } = options;
  const problem = (name: string, message: string) => new TypeError(BULLMQ_OPTION(name, message));
  if (connection === undefined || connection === null) throw new TypeError(BULLMQ_NO_CONNECTION);
  if (typeof queueName !== 'string' || queueName === '') throw problem('queueName', MUST_BE_NAME(queueName));
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix === '')) throw problem('prefix', MUST_BE_NAME(prefix));
  if (!isObject(defaultJobOptions)) throw problem('defaultJobOptions', MUST_BE_OBJECT(defaultJobOptions));
  if (typeof worker !== 'boolean' && !isObject(worker)) throw problem('worker', MUST_BE_WORKER(worker));
  if (!POLICIES.includes(onEnqueueFailure)) throw problem('onEnqueueFailure', MUST_BE_ONE_OF(POLICIES, onEnqueueFailure));
  if (typeof requireDurable !== 'boolean') throw problem('requireDurable', MUST_BE_BOOLEAN(requireDurable));
  if (backend !== undefined && typeof backend !== 'function') throw problem('backend', MUST_BE_FUNCTION(backend));
  return {
    connection,
    queueName,
    prefix,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...defaultJobOptions },
    worker: worker === false ? undefined : worker === true ? {} : worker,
    enqueueTimeout: checkTimeout(enqueueTimeout, (message) => BULLMQ_OPTION('enqueueTimeout', message)),
    onEnqueueFailure,
    requireDurable,
    unknownHandlerTimeout: checkTimeout(
      unknownHandlerTimeout,
      (message) => BULLMQ_OPTION('unknownHandlerTimeout', message),
      true,
    ),
    backend: backend as BackendFactory | undefined,
  };
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
