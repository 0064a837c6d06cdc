import type { BackgroundTaskTransport } from '../interfaces/background-task-event.interface.js';

/** Where a task comes from, as events, log lines and the shutdown report name it. */
export interface TaskOrigin {
  readonly transport: BackgroundTaskTransport;
  readonly method: string;
  readonly path: string;
}

/** What the runner needs of whatever adds tasks: a request, a message. */
export interface TaskOwner {
  /** Runs its tasks side by side instead of one after another. */
  readonly concurrent: boolean;
  /** Read only when an event or a log line names one of its tasks. */
  readonly origin: TaskOrigin;
}
