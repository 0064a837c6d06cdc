export { BACKGROUND_TASKS_MODE, BACKGROUND_TASKS_MODULE_OPTIONS } from './background-tasks.module-definition.js';
export { BackgroundTasksModule } from './background-tasks.module.js';
export { AppBackgroundTasks } from './core/app-background-tasks.js';
export { BackgroundTaskRunner } from './core/background-task-runner.js';
export { BackgroundTasks } from './core/background-tasks.js';
export { Background } from './decorators/background.decorator.js';
export { BackgroundTask } from './decorators/background-task.decorator.js';
export { BackgroundTasksQueueFullException } from './exceptions/background-tasks-queue-full.exception.js';
export type * from './interfaces/index.js';
