export type { BackgroundTaskInfo } from './background-task-info.interface.js';
export type { BackgroundTasksModuleOptions } from './background-tasks-module-options.interface.js';
