export { BackgroundTasksHealthIndicator, type BackgroundTasksHealthOptions } from './background-tasks.health.js';
