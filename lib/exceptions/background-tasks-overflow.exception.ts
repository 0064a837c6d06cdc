import { ServiceUnavailableException } from '@nestjs/common';
import { OVERFLOW_REJECTED } from '../background-tasks.messages.js';

/**
 * Thrown by `addTask()` when `maxQueued` tasks are already waiting and
 * the `overflow` policy is `'reject'`. Over HTTP it becomes a 503 response,
 * which tells the client to come back later instead of losing its work.
 */
export class BackgroundTasksOverflowException extends ServiceUnavailableException {
  constructor(taskName: string, maxQueued: number) {
    super(OVERFLOW_REJECTED(taskName, maxQueued));
  }
}
