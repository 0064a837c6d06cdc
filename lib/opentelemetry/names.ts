/**
 * The names this module gives its spans, attributes and metrics, after
 * OpenTelemetry's semantic conventions: its own under `background_task.`,
 * the conventions' where they apply. docs/production.md lists them.
 */

/** The name of the tracer and the meter: OpenTelemetry's instrumentation scope. */
export const INSTRUMENTATION_NAME = 'nestjs-background-tasks';

/** A task's span is named `background-task <name>`. */
export const spanName = (taskName: string): string => `background-task ${taskName}`;

export const ATTR_NAME = 'background_task.name';
export const ATTR_TRANSPORT = 'background_task.transport';
/** `succeeded`, `failed`, `timed-out`, `dropped` or `cancelled`. */
export const ATTR_OUTCOME = 'background_task.outcome';
/** Why a task was dropped or cancelled: the `reason` of hook events. */
export const ATTR_REASON = 'background_task.reason';
/** Seconds from `addTask()` to the start, or to the drop or cancel. */
export const ATTR_WAIT_TIME = 'background_task.wait_time';
/** 1 in process; on a worker, the job's attempt (1 for the first). */
export const ATTR_ATTEMPT = 'background_task.attempt';
/** The method and path of a microservice or WebSocket message ('RPC' and its pattern, 'WS' and its name). */
export const ATTR_METHOD = 'background_task.method';
export const ATTR_PATH = 'background_task.path';
/** The semantic conventions' own, for tasks added by HTTP requests and for errors. */
export const ATTR_HTTP_METHOD = 'http.request.method';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_ERROR_TYPE = 'error.type';
/** The messaging conventions', on the span of a job's attempt on a worker. */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_DESTINATION = 'messaging.destination.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
/** On a metric of running and queued tasks: which of the two. */
export const ATTR_STATE = 'background_task.state';

/** The event added to the span of a task still running when the shutdown timeout expires. */
export const EVENT_ABORTED = 'background_task.aborted';

export const METRIC_ENDED = 'background_task.ended';
export const METRIC_COUNT = 'background_task.count';
export const METRIC_DURATION = 'background_task.duration';
export const METRIC_WAIT_TIME = 'background_task.wait_time';
