/**
 * Compile-only type test of `@BackgroundTaskHandler()` methods at the call site:
 * checked by `tsc -p tsconfig.json`, never run. The call site is the same
 * with or without the BullMQ module, and so is its type-checking. Each
 * `@ts-expect-error` line has exactly one error, for the reason stated above it.
 */
import { Injectable } from '@nestjs/common';
import { AppBackgroundTasks, BackgroundTaskHandler, type BackgroundTaskContext, type BackgroundTasks } from '../../lib/index.js';
import { BackgroundTaskHandler as FromSubpath, type BackgroundTasksBullMQOptions } from '../../lib/bullmq/index.js';

@Injectable()
export class Mailer {
  @BackgroundTaskHandler({ attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { count: 100 } })
  sendWelcome(userId: string, locale?: 'en' | 'fr'): Promise<void> {
    return Promise.resolve(void [userId, locale]);
  }

  @FromSubpath({ name: 'reindex' })
  reindex({ signal }: BackgroundTaskContext, productId: number): void {
    void [signal, productId];
  }
}

declare const tasks: BackgroundTasks;
declare const appTasks: AppBackgroundTasks;
declare const mailer: Mailer;

tasks.addTask(mailer.sendWelcome, 'u1');
tasks.addTask(mailer.sendWelcome, 'u1', 'fr');
appTasks.addTask(mailer.sendWelcome, 'u1');
tasks.addTaskWithOptions({ name: 'reindex-7', timeout: 5000 }, mailer.reindex, 7);

// The arguments are still the handler's parameters.
// @ts-expect-error a number is no user id
tasks.addTask(mailer.sendWelcome, 42);
// @ts-expect-error 'de' is not a locale of the handler
tasks.addTask(mailer.sendWelcome, 'u1', 'de');
// @ts-expect-error a handler that takes a context is added with addTaskWithOptions
tasks.addTask(mailer.reindex, 7);

// @ts-expect-error attempts is a number
BackgroundTaskHandler({ attempts: '3' });

export const options: BackgroundTasksBullMQOptions = {
  connection: { host: 'localhost', port: 6379 },
  worker: { concurrency: 5, lockDuration: 30_000 },
  onEnqueueFailure: 'drop',
};
// @ts-expect-error not a policy
export const wrong: BackgroundTasksBullMQOptions = { onEnqueueFailure: 'retry' };
