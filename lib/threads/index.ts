// nestjs-background-tasks/threads: what a thread module imports. Each worker
// thread loads it with the module, so it loads nothing else of the package.
export { threadTask } from './thread-task.js';
export type { ThreadTask, ThreadTaskOptions } from './thread-task.js';
