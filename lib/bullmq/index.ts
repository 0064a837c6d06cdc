export { BackgroundTaskHandler } from '../decorators/background-task-handler.decorator.js';
export { BackgroundTask } from '../deprecated.js';
export { BackgroundTasksQueue } from './background-tasks-queue.js';
export { BackgroundTasksBullMQModule } from './bullmq.module.js';
export type {
  BackgroundTasksBullMQOptions,
  BackgroundTasksBullMQOptionsFactory,
  BackgroundTasksEnqueueFailurePolicy,
  BackgroundTasksWorkerOptions,
} from './bullmq-options.interface.js';
