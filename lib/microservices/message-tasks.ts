import { REQUESTED_TOO_LATE } from '../background-tasks.messages.js';
import { RequestBackgroundTasks } from '../core/request-background-tasks.js';
import type { TaskOrigin } from '../core/task-owner.js';
import type { TaskRunner } from '../core/task-runner.js';

/** Where a message's transport context keeps its tasks; `null` once its handler started without them. */
const MESSAGE_TASKS = Symbol('nestjs-background-tasks:message-tasks');

interface TasksHolder {
  [MESSAGE_TASKS]?: RequestBackgroundTasks | null;
}

/** The tasks kept on a message's context: `undefined` if nothing asked yet, `null` if too late to ask. */
export function peekMessageTasks(messageContext: object): RequestBackgroundTasks | null | undefined {
  return (messageContext as TasksHolder)[MESSAGE_TASKS];
}

/**
 * Records that a message's handler started without anything having asked
 * for tasks, so that no interceptor is watching it.
 */
export function markWithoutTasks(messageContext: object): void {
  (messageContext as TasksHolder)[MESSAGE_TASKS] = null;
}

/**
 * The one {@link RequestBackgroundTasks} of a message, created on first use,
 * before its handler starts: what the REQUEST-scoped provider and
 * `@Background()` return.
 */
export function messageTasksOf(messageContext: object, runner: TaskRunner, origin: TaskOrigin): RequestBackgroundTasks {
  const tasks = (messageContext as TasksHolder)[MESSAGE_TASKS];
  if (tasks) return tasks;
  if (tasks === null) throw new Error(REQUESTED_TOO_LATE);
  return ((messageContext as TasksHolder)[MESSAGE_TASKS] = new RequestBackgroundTasks(runner, origin));
}
