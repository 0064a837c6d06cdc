import { BackgroundTasksMonitor } from './core/background-tasks-monitor.js';
import { BackgroundTaskHandler } from './decorators/background-task-handler.decorator.js';
import { BackgroundTasksOverflowException } from './exceptions/background-tasks-overflow.exception.js';

/*
 * The names of 1.0, kept working for 1.x: each is the very same class or
 * function as its new name (the same injection token, `instanceof` holds), and
 * goes in 2.0. docs/how-it-works.md#names says why each was renamed.
 */

/** @deprecated Renamed {@link BackgroundTaskHandler}: it marks a handler, and calling the method does not defer it. Removed in 2.0. */
export const BackgroundTask = BackgroundTaskHandler;

/** @deprecated Renamed {@link BackgroundTasksMonitor}: it reads and waits, and runs nothing. Removed in 2.0. */
export const BackgroundTaskRunner = BackgroundTasksMonitor;
/** @deprecated Renamed {@link BackgroundTasksMonitor}. Removed in 2.0. */
export type BackgroundTaskRunner = BackgroundTasksMonitor;

/** @deprecated Renamed {@link BackgroundTasksOverflowException}: "queue" means BullMQ's queue. Removed in 2.0. */
export const BackgroundTasksQueueFullException = BackgroundTasksOverflowException;
/** @deprecated Renamed {@link BackgroundTasksOverflowException}. Removed in 2.0. */
export type BackgroundTasksQueueFullException = BackgroundTasksOverflowException;
