/** Marks handlers that take a `@Background()` parameter. */
export const BACKGROUND_PARAM_METADATA = 'nestjs-background-tasks:background-param';

/** Default of the `shutdownTimeout` option, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;

/** The longest delay a Node timer can wait; longer ones fire at once. */
export const MAX_TIMEOUT = 2_147_483_647;

export const LOGGER_CONTEXT = 'BackgroundTasks';

/** Marks the methods of `@BackgroundTaskHandler()`, on the method's function itself: `addTask()` is given that function. */
export const BACKGROUND_TASK_HANDLER_METADATA = 'nestjs-background-tasks:handler';

/** Default of the `threads.idleTimeout` option, in milliseconds: a thread idle that long ends (down to `minThreads`). */
export const DEFAULT_THREAD_IDLE_TIMEOUT = 30_000;
