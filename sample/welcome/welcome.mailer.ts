import { Injectable } from '@nestjs/common';
import { BackgroundTaskHandler } from 'nestjs-background-tasks';
import { writeLog } from '../log.js';

/**
 * A durable task: a `@BackgroundTaskHandler()` method. With REDIS_URL, it runs as
 * a BullMQ job in the worker process (`npm run start:worker`), retried on
 * failure; without, in the web process, on this provider.
 */
@Injectable()
export class WelcomeMailer {
  @BackgroundTaskHandler({ attempts: 3, backoff: { type: 'exponential', delay: 1000 } })
  async sendWelcome(email: string): Promise<void> {
    await writeLog(`welcome email to ${email}, sent by process ${process.pid}`);
  }
}
