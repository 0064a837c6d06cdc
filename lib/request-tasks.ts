import { REQUEST_TASKS } from './background-tasks.constants.js';
import { BackgroundTasks } from './background-tasks.service.js';
import { ConnectionScopedBackgroundTasks } from './connection-scoped-background-tasks.js';
import type { BackgroundTaskRunner } from './task-runner.js';
import { isHttpRequest, isMessageRequest, messageOrigin, nodeRequestOf, type TaskOrigin } from './transports.js';

/** A Node HTTP request, or a message's transport context, once something asked for its tasks. */
export interface TaskCarrier {
  [REQUEST_TASKS]?: BackgroundTasks | null;
}

/** The tasks kept on a request (or message context), if anything has asked for them yet. */
export function peekTasks(carrier: object): BackgroundTasks | null | undefined {
  return (carrier as TaskCarrier)[REQUEST_TASKS];
}

/**
 * Records that a message's handler started without anything having asked
 * for tasks, so that no interceptor is watching it.
 */
export function markWithoutTasks(carrier: object): void {
  (carrier as TaskCarrier)[REQUEST_TASKS] = null;
}

/**
 * The one {@link BackgroundTasks} of a request or message, created on first
 * use. This is what the REQUEST-scoped provider and `@Background()` return.
 * An HTTP request can get them at any time before its response is done.
 */
export function getTasks(carrier: object, runner: BackgroundTaskRunner, origin?: TaskOrigin): BackgroundTasks {
  const tasks = (carrier as TaskCarrier)[REQUEST_TASKS];
  if (tasks) return tasks;
  if (tasks === null) {
    throw new Error(
      'BackgroundTasks was requested after the handler had started, for a message that does not use it ' +
        '(for example through ModuleRef.resolve() inside a message handler). Inject BackgroundTasks into a constructor, ' +
        'or take it as a @Background() handler parameter, so that the message is prepared to run tasks.',
    );
  }
  return ((carrier as TaskCarrier)[REQUEST_TASKS] = new BackgroundTasks(runner, carrier, origin));
}

/** The REQUEST-scoped provider's factory: REQUEST is an HTTP request, or a message's request context. */
export function getRequestTasks(request: object, runner: BackgroundTaskRunner): BackgroundTasks {
  if (isHttpRequest(request)) return getTasks(nodeRequestOf(request), runner);
  if (isMessageRequest(request)) {
    const messageContext = request.getContext();
    if (typeof messageContext === 'object' && messageContext !== null) {
      return getTasks(messageContext, runner, messageOrigin(request.getPattern()));
    }
  }
  // A WebSocket client: REQUEST is the connection.
  return new ConnectionScopedBackgroundTasks(runner, request);
}
