import { REQUEST_TASKS } from './background-tasks.constants.js';
import { BackgroundTasks } from './background-tasks.service.js';
import type { BackgroundTaskRunner } from './task-runner.js';

interface TaskCarrier {
  [REQUEST_TASKS]?: BackgroundTasks | null;
}

/** The request's tasks, if anything has asked for them yet. */
export function peekRequestTasks(request: object): BackgroundTasks | null | undefined {
  return (request as TaskCarrier)[REQUEST_TASKS];
}

/**
 * Records that the route handler started without anything having asked for
 * tasks, so that no interceptor is watching this request.
 */
export function markRequestWithoutTasks(request: object): void {
  (request as TaskCarrier)[REQUEST_TASKS] = null;
}

/**
 * The one {@link BackgroundTasks} of a request, created on first use. This is
 * what the REQUEST-scoped provider and `@Background()` both return.
 */
export function getRequestTasks(request: object, runner: BackgroundTaskRunner): BackgroundTasks {
  const carrier = request as TaskCarrier;
  const tasks = carrier[REQUEST_TASKS];
  if (tasks) return tasks;
  if (tasks === null) {
    throw new Error(
      'BackgroundTasks was requested after the route handler had started, for a route that does not use it ' +
        '(for example through ModuleRef.resolve() inside a handler). Inject BackgroundTasks into a constructor, ' +
        'or take it as a @Background() handler parameter, so that the request is prepared to run tasks.',
    );
  }
  return (carrier[REQUEST_TASKS] = new BackgroundTasks(runner, request));
}
