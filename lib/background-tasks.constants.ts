/** Where a request keeps its {@link BackgroundTasks}. */
export const REQUEST_TASKS = Symbol('nestjs-background-tasks:request-tasks');

/** Where an HTTP adapter's instance keeps the runner, for `@Background()` to find without dependency injection. */
export const HTTP_RUNNER = Symbol('nestjs-background-tasks:runner');

/** Where a Fastify request's raw Node request keeps its raw response, which Fastify does not link. */
export const RAW_RESPONSE = Symbol('nestjs-background-tasks:raw-response');

/** Marks handlers that take a `@Background()` parameter. */
export const BACKGROUND_PARAM_METADATA = 'nestjs-background-tasks:background-param';

/** Default of the `shutdownTimeout` option, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;

/** The longest delay a Node timer can wait; longer ones fire at once. */
export const MAX_TIMEOUT = 2_147_483_647;

export const LOGGER_CONTEXT = 'BackgroundTasks';
