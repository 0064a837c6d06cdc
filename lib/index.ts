export { BackgroundTasksQueueFullException } from './background-tasks-queue-full.exception.js';
export { BACKGROUND_TASKS_MODULE_OPTIONS } from './background-tasks.module-definition.js';
export { BackgroundTasksModule } from './background-tasks.module.js';
export { BackgroundTasks } from './background-tasks.service.js';
export { Background } from './decorators/background.decorator.js';
export { BackgroundTaskRunner } from './task-runner.js';
export type * from './interfaces/index.js';
