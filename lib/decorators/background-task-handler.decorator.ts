import { SetMetadata } from '@nestjs/common';
import { BACKGROUND_TASK_HANDLER_METADATA } from '../background-tasks.constants.js';
import type { BackgroundTaskHandlerOptions } from '../interfaces/background-task-handler-options.interface.js';

/**
 * Marks a method of a singleton provider as a background task handler,
 * found at startup. The call site does not change:
 * `tasks.addTask(this.mailer.sendWelcome, user.id)` runs it on its provider
 * (so `this` works), and, once `BackgroundTasksBullMQModule` is configured,
 * becomes a BullMQ job named after the handler, run by a worker anywhere.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class Mailer {
 *   @BackgroundTaskHandler({ attempts: 3, backoff: { type: 'exponential', delay: 1000 } })
 *   async sendWelcome(userId: string): Promise<void> {
 *     // ...
 *   }
 * }
 * ```
 */
export const BackgroundTaskHandler = (options: BackgroundTaskHandlerOptions = {}): MethodDecorator =>
  SetMetadata(BACKGROUND_TASK_HANDLER_METADATA, options);
