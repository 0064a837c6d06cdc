import type { BackgroundTaskInfo } from './interfaces/background-tasks-snapshot.interface.js';
import { describe } from './utils/describe.js';
import { isThenable } from './utils/is-thenable.js';

// Every error and log line of the module, each saying what to do. docs/errors.md lists them.

export const NOT_A_FUNCTION = (method: 'addTask' | 'addTaskWithOptions', value: unknown): string => {
  const [position, call] =
    method === 'addTask' ? ['first', 'addTask(fn, ...args)'] : ['second', 'addTaskWithOptions(options, fn, ...args)'];
  const hint =
    value === undefined || isThenable(value)
      ? ` Did you call the function instead of passing it? Write ${call}, with fn not called.`
      : '';
  return `BackgroundTasks.${method}() expects a function as its ${position} argument, got ${describe(value)}.${hint}`;
};

export const OPTIONS_NOT_AN_OBJECT = (value: unknown): string =>
  `BackgroundTasks.addTaskWithOptions() expects an options object first, got ${describe(value)}.`;

export const UNKNOWN_OPTION = (owner: string, key: string, suggestion: string | undefined, known: readonly string[]): string =>
  `${owner}: unknown option "${key}"` +
  (suggestion === undefined ? `; the options are ${known.join(', ')}.` : `. Did you mean "${suggestion}"?`);

/** Prefixes what is wrong with one option of `addTaskWithOptions()`. */
export const TASK_OPTION = (name: string, problem: string): string =>
  `BackgroundTasks.addTaskWithOptions(): option "${name}" ${problem}`;

export const OVERFLOW_REJECTED = (taskName: string, maxQueued: number): string =>
  `Background task "${taskName}" was not accepted: maxQueued (${maxQueued}) tasks are already waiting.`;

export const MODULE_OPTIONS_NOT_AN_OBJECT = (value: unknown): string =>
  `BackgroundTasksModule: options must be an object, got ${describe(value)}.`;

/** Prefixes what is wrong with one option of the module. */
export const MODULE_OPTION = (name: string, problem: string): string => `BackgroundTasksModule: option "${name}" ${problem}`;

export const CONFIGURED_TWICE = (differences: readonly string[]): string =>
  `BackgroundTasksModule is configured twice, with different options (${differences.join('; ')}). ` +
  'An app has one runner: configure it once, in the root module (forRoot() or forRootAsync()), ' +
  'and import BackgroundTasksModule plainly anywhere else.';

export const MUST_BE_COUNT = (value: unknown): string => `must be a positive integer or Infinity, got ${describe(value)}.`;

export const MUST_BE_ONE_OF = (allowed: readonly string[], value: unknown): string =>
  `must be one of ${allowed.map((choice) => `'${choice}'`).join(', ')}; got ${describe(value)}.`;

export const MUST_BE_TIMEOUT = (allowZero: boolean, max: number, value: unknown): string =>
  `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, at most ${max}, or Infinity; got ${describe(value)}.`;

export const MUST_BE_FUNCTION = (value: unknown): string => `must be a function, got ${describe(value)}.`;

export const MUST_BE_NAME = (value: unknown): string => `must be a non-empty string, got ${describe(value)}.`;

export const HEALTH_OPTION = (name: string, problem: string): string =>
  `BackgroundTasksHealthIndicator.isHealthy(): option "${name}" ${problem}`;

export const MUST_BE_SHARE = (value: unknown): string => `must be a number above 0 and at most 1, got ${describe(value)}.`;

export const MUST_BE_BOOLEAN = (value: unknown): string => `must be a boolean, got ${describe(value)}.`;

export const MUST_BE_TRACING = (value: unknown): string =>
  `must be a boolean, or an object with "parent" and "metrics", got ${describe(value)}.`;

export const TRACING_WITHOUT_API =
  'BackgroundTasksModule: option "tracing" is on, but @opentelemetry/api is not installed. ' +
  'Install it (npm install @opentelemetry/api), with the OpenTelemetry SDK that exports your traces, or turn tracing off.';

export const TRANSACTIONS_WITHOUT_PACKAGE =
  'BackgroundTasksModule: option "transactions" is on, but @nestjs-cls/transactional is not installed. ' +
  'Install it with nestjs-cls and the adapter of your database library ' +
  '(npm install nestjs-cls @nestjs-cls/transactional @nestjs-cls/transactional-adapter-typeorm, for example), ' +
  'set up ClsModule with ClsPluginTransactional, or turn "transactions" off.';

export const TRANSACTIONS_WITHOUT_HOST =
  'BackgroundTasksModule: option "transactions" is on, but the app has no TransactionHost of @nestjs-cls/transactional. ' +
  'Import ClsModule with the transactional plugin, for example ' +
  'ClsModule.forRoot({ global: true, plugins: [new ClsPluginTransactional({ adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }) })] }), ' +
  'or turn "transactions" off.';

export const NO_RESPONSE =
  'BackgroundTasks found no response for this HTTP request, so its tasks could never run. ' +
  'Import BackgroundTasksModule in the root module, and let Nest apply middleware to every route.';

export const REQUESTED_TOO_LATE =
  'BackgroundTasks was requested after the handler had started, for a message that does not use it ' +
  '(for example through ModuleRef.resolve() inside a message handler). Inject BackgroundTasks into a constructor, ' +
  'or take it as a @Background() handler parameter, so that the message is prepared to run tasks.';

export const NO_REQUEST =
  'BackgroundTasks was resolved without a request: Nest has none registered for this context id ' +
  '(moduleRef.resolve() with no context id, or with one whose request was not registered). ' +
  'Resolve it for the current request: const contextId = ContextIdFactory.getByRequest(request); ' +
  'moduleRef.registerRequestByContextId(request, contextId); await moduleRef.resolve(Provider, contextId).';

export const DURABLE_PROVIDER = (name: string): string =>
  `${name} is a durable provider and depends on BackgroundTasks, which is per request: ` +
  'a durable provider is shared by every request of its tenant, and Nest gives it the tenant payload as REQUEST. ' +
  'Take BackgroundTasks as a @Background() handler parameter and pass it on, ' +
  'or make the class that uses it request-scoped without durable: true.';

export const GRAPHQL_SUBSCRIPTION =
  'BackgroundTasks is not supported in GraphQL subscriptions: their events go out over a WebSocket, with no response ' +
  'to wait for. Add the tasks in the mutation that publishes the event, or inject AppBackgroundTasks.';

export const UNKNOWN_REQUEST = (request: unknown): string =>
  `BackgroundTasks got a REQUEST that is neither an HTTP request, a GraphQL context over HTTP, a microservice message nor a WebSocket client: ${describe(request)}. ` +
  'A ContextIdStrategy that gives durable providers a payload replaces the request with it; ' +
  'take BackgroundTasks as a @Background() handler parameter there.';

export const CONNECTION_SCOPED =
  'BackgroundTasks cannot be injected here: Nest creates request-scoped providers once per WebSocket connection, ' +
  'not per message. Take @Background() as a parameter of the @SubscribeMessage() handler instead.';

export const BACKGROUND_ON_CONSTRUCTOR =
  '@Background() decorates handler parameters; to get BackgroundTasks in a constructor, inject it.';

export const BACKGROUND_WITHOUT_MODULE = (what: 'request' | 'message'): string =>
  `@Background() found no BackgroundTasks for this ${what}: import BackgroundTasksModule in the root module.`;

export const BACKGROUND_UNSUPPORTED = (type: string): string =>
  `@Background() is not supported in ${type} handlers, only in HTTP, GraphQL, microservice and WebSocket ones.`;

export const TASK_FAILED = (name: string, method: string, path: string, error: string): string =>
  `Background task "${name}" of ${origin(method, path)} failed: ${error}`;

export const TASK_TIMED_OUT = (name: string, method: string, path: string, timeout: number): string =>
  `Background task "${name}" of ${origin(method, path)} timed out after ${timeout} ms.`;

export const TASK_OVERDUE = (name: string, method: string, path: string, hasSignal: boolean, concurrency: number): string =>
  `Background task "${name}" of ${origin(method, path)} is overdue: it timed out and still runs, ` +
  `keeping its slot${concurrency === Infinity ? '' : ` (one of concurrency: ${concurrency})`} until it returns. ` +
  (hasSignal
    ? 'Make it stop when its signal is aborted (pass signal to fetch(), your driver, or check signal.aborted in loops).'
    : 'Add it with addTaskWithOptions() and make it stop when its signal is aborted.');

export const TASK_TIMEOUT_ERROR = (name: string, timeout: number): string =>
  `Background task "${name}" timed out after ${timeout} ms.`;

export const TASK_DROPPED_OVERFLOW = (name: string, method: string, path: string, maxQueued: number): string =>
  `Background task "${name}" of ${origin(method, path)} was dropped: maxQueued (${maxQueued}) tasks are already waiting.`;

/** What added a task: a request or message, or the app itself (AppBackgroundTasks), which has no method. */
export const origin = (method: string, path: string): string => (method === '' ? 'the app' : `${method} ${path}`);

export const HOOK_THREW = (hook: string, error: string): string => `${hook} threw: ${error}`;

export const TELEMETRY_THREW = (error: string): string =>
  `OpenTelemetry threw while tracing a background task: ${error}. The tasks run on, without what failed; ` +
  'check the span processors, exporters and metric readers of your OpenTelemetry SDK. Later failures are not logged.';

export const SHUTDOWN_EXPIRED = (timeout: number, tasks: readonly BackgroundTaskInfo[]): string =>
  `Shutdown timeout of ${timeout} ms expired; running tasks have their signal aborted, queued ones are dropped: ` +
  tasks.map(({ name, state, method, path }) => `"${name}" (${state}, ${origin(method, path)})`).join(', ');

export const SHUTDOWN_WAITING = (tasks: number, running: number, timeout: number): string =>
  `Waiting for ${tasks} background task${tasks === 1 ? '' : 's'} (${running} running), ` +
  (timeout === Infinity ? 'with no time limit (shutdownTimeout: Infinity).' : `up to ${timeout} ms.`);

export const SHUTDOWN_DRAINED = (ms: number): string => `Background tasks drained in ${ms} ms.`;

export const OVERFLOW_SUMMARY = (count: number, maxQueued: number): string =>
  `${count} more background task${count === 1 ? ' was' : 's were'} dropped in the last second: maxQueued (${maxQueued}) tasks are already waiting.`;

export const SHUTTING_DOWN = 'The application is shutting down.';
export const TASK_CANCELLED = (name: string): string =>
  `Background task "${name}" was cancelled while it ran in a worker thread.`;

// ---- Handlers of @BackgroundTaskHandler() and their BullMQ jobs ----------------------

export const NOT_SERIALISABLE = (task: string, position: number, path: string, what: string): string =>
  `BackgroundTasks: "${task}" runs as a BullMQ job, whose arguments travel as JSON, but ` +
  `argument ${position}${path === '' ? '' : `: ${path}`} is ${what}. ` +
  'Pass JSON values, arrays and plain objects: ids rather than entities, date.toISOString() rather than a Date.';

export const DISPATCHER_BROKE = (task: string, policy: string): string =>
  `Background task "${task}" could not be handed to the queue backend, which threw instead of failing cleanly; ` +
  `the task follows onEnqueueFailure ('${policy}'). This is a bug of nestjs-background-tasks: please report it with this stack.`;

export const RUNNER_BROKE = (task: string): string =>
  `Background task "${task}": the runner threw while ending or starting it; it is counted as failed if it was running. ` +
  'This is a bug of nestjs-background-tasks: please report it with this stack.';

export const GRAPHQL_NO_SCHEMA = (resolvers: readonly string[]): string =>
  `The app has GraphQL resolvers (${resolvers.join(', ')}), but no schema built by @nestjs/graphql was found at bootstrap: ` +
  "fields get no outcome of their own, so a failing resolver's tasks run whenever the response's status is below 400. " +
  'Import GraphQLModule.forRoot() in the same application as BackgroundTasksModule.';

export const NOT_DURABLE = (task: string): string =>
  `BackgroundTasks: "${task}" is not a @BackgroundTaskHandler() method, and requireDurable is set: every task must run as a BullMQ job. ` +
  'Mark a provider method with @BackgroundTaskHandler() and pass it (tasks.addTask(this.mailer.sendWelcome, id)), ' +
  'or set requireDurable: false to let closures run in this process.';

export const DUPLICATE_HANDLER = (name: string): string =>
  `@BackgroundTaskHandler(): two handlers are named "${name}". Jobs find their handler by name: ` +
  "give one of them another with @BackgroundTaskHandler({ name: '…' }), or provide the class once.";

export const REQUEST_SCOPED_HANDLER = (name: string): string =>
  `@BackgroundTaskHandler(): "${name}" belongs to a request-scoped provider, which has no instance outside a request. ` +
  'Move the handler to a singleton provider, and pass it what it needs from the request as arguments.';

export const HANDLER_OPTION = (name: string, option: string, problem: string): string =>
  `@BackgroundTaskHandler() of "${name}": option "${option}" ${problem}`;

/** After "no": the handler a worker lacks, and those it has. */
const lacking = (name: string, known: readonly string[]): string =>
  `@BackgroundTaskHandler() method is named "${name}" in this worker` +
  (known.length === 0 ? ' (it has none)' : ` (it has ${known.map((handler) => `"${handler}"`).join(', ')})`);

export const JOB_HANDED_BACK = (name: string, id: string, known: readonly string[], limit: number): string =>
  `Background job "${name}" (${id}) went back to the queue: no ${lacking(name, known)}. ` +
  'A worker that has it will take it, as during a rolling deploy; ' +
  (limit === Infinity
    ? 'it waits for one for ever (unknownHandlerTimeout: Infinity).'
    : `if none does within unknownHandlerTimeout (${limit} ms), it fails for good.`);

export const UNKNOWN_HANDLER = (name: string, known: readonly string[], limit: number): string =>
  `No ${lacking(name, known)}, ` +
  (limit === 0
    ? 'and unknownHandlerTimeout is 0: it fails for good at once. '
    : `and no worker that has it took the job within unknownHandlerTimeout (${limit} ms) of its first hand-back: it fails for good. `) +
  'Deploy workers with this handler (keep handler names stable across deploys, with @BackgroundTaskHandler({ name })), ' +
  'then retry the job from the failed set; or raise unknownHandlerTimeout.';

export const JOB_ATTEMPT_FAILED = (name: string, id: string, attempt: number, attempts: number, error: string): string =>
  `Background job "${name}" (${id}) failed attempt ${attempt} of ${attempts}, and will be retried: ${error}`;

export const JOB_FAILED = (name: string, id: string, attempt: number, attempts: number, error: string): string =>
  `Background job "${name}" (${id}) failed for good, at attempt ${attempt} of ${attempts}: ${error}`;

/** `timeout` undefined: the job was cancelled. */
export const JOB_OVERDUE = (name: string, id: string, timeout: number | undefined): string =>
  `Background job "${name}" (${id}) ${timeout === undefined ? 'was cancelled' : `timed out after ${timeout} ms`}, ` +
  `but its handler "${name}" has not returned: the worker holds the job's slot until it does. ` +
  'Make the handler honour its signal: pass it on to what it awaits, or check signal.aborted.';

export const ENQUEUE_FAILED = (name: string, error: string, policy: 'run-in-process' | 'drop'): string =>
  `Background task "${name}" could not be enqueued (${error}); ` +
  (policy === 'drop'
    ? 'dropped (onEnqueueFailure: drop).'
    : 'running it in this process instead (onEnqueueFailure: run-in-process).');

export const ENQUEUE_TIMED_OUT = (timeout: number): string => `no answer within enqueueTimeout, ${timeout} ms`;

export const QUEUE_UNREACHABLE = (queue: string, error: string): string =>
  `BullMQ queue "${queue}" cannot reach its store (${error}): durable tasks follow onEnqueueFailure until it is back.`;

export const QUEUE_REACHABLE = (queue: string): string => `BullMQ queue "${queue}" is connected: durable tasks run as jobs.`;

/** Prefixes what is wrong with one option of the BullMQ module. */
export const BULLMQ_OPTION = (name: string, problem: string): string =>
  `BackgroundTasksBullMQModule: option "${name}" ${problem}`;

export const BULLMQ_OPTIONS_NOT_AN_OBJECT = (value: unknown): string =>
  `BackgroundTasksBullMQModule: options must be an object, got ${describe(value)}.`;

export const BULLMQ_NO_CONNECTION =
  'BackgroundTasksBullMQModule: no connection. Give forRoot() a connection (ioredis options or an ioredis instance), ' +
  'or import BullModule.forRoot({ connection }) of @nestjs/bullmq, whose connection it reuses.';

export const MUST_BE_OBJECT = (value: unknown): string => `must be an object, got ${describe(value)}.`;

export const MUST_BE_WORKER = (value: unknown): string =>
  `must be true, false (a web-only process) or BullMQ worker options, got ${describe(value)}.`;

export const QUEUE_NOT_CONNECTED = 'the queue is not connected';

export const NO_BULLMQ_MODULE =
  'BackgroundTasksQueue: the BullMQ module is not imported. Import BackgroundTasksBullMQModule.forRoot() in the root module, ' +
  'which provides BackgroundTasksQueue, rather than listing BackgroundTasksQueue among your providers.';

export const NO_BULLMQ_WORKER = (queue: string): string =>
  `BackgroundTasksQueue: this process runs no worker of BullMQ queue "${queue}" (worker: false), so no job runs here to cancel. ` +
  'Call cancelJob() in the worker process that runs the job, or remove a job that is not running yet with (await queue.getJob(id))?.remove().';

export const BULLMQ_WITHOUT_MODULE =
  'BackgroundTasksBullMQModule needs BackgroundTasksModule: import BackgroundTasksModule.forRoot() (or BackgroundTasksModule) in the root module, beside it.';

export const WORKER_STARTED = (queue: string, concurrency: number, handlers: readonly string[]): string =>
  `BullMQ worker of queue "${queue}" started: it runs up to ${concurrency} job${concurrency === 1 ? '' : 's'} at a time, ` +
  (handlers.length === 0
    ? 'but this app has no @BackgroundTaskHandler() method: it hands every job back to the queue, for other workers.'
    : `of the handlers ${handlers.map((handler) => `"${handler}"`).join(', ')}.`);

export const WORKER_STOPPED = (queue: string): string => `BullMQ worker of queue "${queue}" stopped.`;

export const WORKER_NOT_CLOSED = (queue: string): string =>
  `The worker of BullMQ queue "${queue}" could not close cleanly: its store is unreachable. ` +
  'Shutdown goes on; the jobs it was running will be found stalled and run again by another worker.';

/** `field` undefined: the data itself is not an object. */
export const MALFORMED_JOB = (name: string, field: string | undefined, problem: string): string =>
  `Background job "${name}" is malformed: ${field === undefined ? 'its data' : `field "${field}" of its data`} ${problem} ` +
  'It was not added by nestjs-background-tasks, or by an incompatible version: ' +
  'add jobs with addTask(), and give other producers a queue of their own.';

export const MUST_BE_ARRAY = (value: unknown): string => `must be an array, got ${describe(value)}.`;

export const MUST_BE_TRUE = (value: unknown): string => `must be true, got ${describe(value)}.`;

export const MUST_BE_TIMESTAMP = (value: unknown): string =>
  `must be a time in milliseconds since 1970 (Date.now()), got ${describe(value)}.`;

export const MUST_BE_CARRIER = (value: unknown): string =>
  `must be an object of strings (a trace context), got ${describe(value)}.`;

export const MUST_BE_INTEGER = (min: number, value: unknown): string =>
  `must be an integer of at least ${min}, got ${describe(value)}.`;

// ---- Thread tasks (threadTask()) and their pool --------------------------------------

export const THREAD_TASK_URL = (value: unknown): string =>
  `threadTask(): the first argument must be the module's own import.meta.url (or __filename in CommonJS), got ${describe(value)}. ` +
  'Each thread loads that module to find the task.';

export const THREAD_TASK_FN = (value: unknown): string =>
  `threadTask(): the second argument must be the task function, got ${describe(value)}.`;

export const THREAD_TASK_OPTIONS = (value: unknown): string =>
  `threadTask(): the third argument, if given, must be an options object ({ transfer }), got ${describe(value)}.`;

export const THREAD_TASK_OPTION = (name: string, problem: string): string => `threadTask(): option "${name}" ${problem}`;

export const NOT_CLONEABLE = (task: string, position: number, path: string, what: string): string =>
  `BackgroundTasks: "${task}" is a thread task, whose arguments are copied to a worker thread by structured clone, but ` +
  `argument ${position}${path === '' ? '' : `: ${path}`} is ${what}, which would not arrive as it is. ` +
  'Pass data: primitives, arrays, plain objects, Dates, Maps, Sets, Buffers; ids rather than services or entities.';

export const THREAD_TASK_NOT_EXPORTED = (task: string, moduleUrl: string): string =>
  `Background task "${task}" is a thread task declared with threadTask(${JSON.stringify(moduleUrl)}, …), ` +
  'but that module does not export it, so no thread can find it. Export the result of threadTask() from the module ' +
  'that calls it, and pass that module its own import.meta.url (or __filename in CommonJS).';

export const THREADS_OPTION = (name: string, problem: string): string => MODULE_OPTION(`threads.${name}`, problem);

export const MUST_BE_THREADS = (value: unknown): string =>
  `must be an object ({ maxThreads, minThreads, idleTimeout, resourceLimits }), got ${describe(value)}.`;

export const MUST_BE_RESOURCE_LIMITS = (value: unknown): string =>
  `must be an object of limits in megabytes, as new Worker() takes them, got ${describe(value)}.`;

export const MUST_BE_THREAD_COUNT = (min: number, value: unknown): string =>
  `must be an integer of at least ${min}, got ${describe(value)}.`;

export const MUST_BE_IDLE_TIMEOUT = (max: number, value: unknown): string =>
  `must be a non-negative number of milliseconds, at most ${max}; got ${describe(value)}.`;

export const MIN_THREADS_ABOVE_MAX = (minThreads: number, maxThreads: number): string =>
  `BackgroundTasksModule: option "threads.minThreads" (${minThreads}) is above "threads.maxThreads" (${maxThreads}). ` +
  'Lower minThreads, or raise maxThreads.';

export const MUST_BE_MEGABYTES = (value: unknown): string => `must be a positive number of megabytes, got ${describe(value)}.`;

export const THREAD_POOL_ERROR =
  'A worker thread of thread tasks failed while it ran no task; the pool starts another when it needs one. ' +
  'If this repeats, check what the thread modules do when they load.';
