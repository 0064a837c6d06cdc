import { ServiceUnavailableException } from '@nestjs/common';
import { QUEUE_FULL } from '../background-tasks.messages.js';

/**
 * Thrown by `addTask()` when the queue already holds `maxQueued` tasks and
 * the `overflow` policy is `'reject'`. Over HTTP it becomes a 503 response,
 * which tells the client to come back later instead of losing its work.
 */
export class BackgroundTasksQueueFullException extends ServiceUnavailableException {
  constructor(taskName: string, maxQueued: number) {
    super(QUEUE_FULL(taskName, maxQueued));
  }
}
