export type { BackgroundTaskContext } from './background-task-context.interface.js';
export type {
  BackgroundTaskCancelReason,
  BackgroundTaskDropReason,
  BackgroundTaskEvent,
  BackgroundTaskHook,
  BackgroundTaskJobAttempt,
  BackgroundTaskTransport,
} from './background-task-event.interface.js';
export type {
  BackgroundTaskBackoff,
  BackgroundTaskHandlerOptions,
  BackgroundTaskKeepJobs,
} from './background-task-handler-options.interface.js';
export type { BackgroundTaskJobStats } from './background-task-job-stats.interface.js';
export type { BackgroundTaskOptions } from './background-task-options.interface.js';
export type { BackgroundTaskStats } from './background-task-stats.interface.js';
export type { BackgroundTaskInfo, BackgroundTaskList, BackgroundTasksSnapshot } from './background-tasks-snapshot.interface.js';
export type { BackgroundTasksOptionsFactory } from './background-tasks-options-factory.interface.js';
export type {
  BackgroundTasksModuleOptions,
  BackgroundTasksMode,
  BackgroundTasksOverflowPolicy,
  BackgroundTasksThreadsOptions,
  BackgroundTasksTracingOptions,
} from './background-tasks-module-options.interface.js';
