import { Module } from '@nestjs/common';
import { BackgroundTasksQueue } from './background-tasks-queue.js';
import { BullMQBackend } from './bullmq-backend.js';
import { ConfigurableModuleClass } from './bullmq.module-definition.js';

/**
 * Runs the tasks of `@BackgroundTaskHandler()` methods as BullMQ jobs: after the
 * response, `addTask(this.mailer.sendWelcome, user.id)` enqueues a job
 * named after the handler, and the workers (this process, unless
 * `worker: false`, and any other with the same handlers) run it, with
 * retries and durability. Closures keep running in-process. Import it once,
 * in the root module, beside `BackgroundTasksModule`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     BackgroundTasksModule.forRoot({ shutdownTimeout: 10_000 }),
 *     BackgroundTasksBullMQModule.forRoot({ connection: { host: 'localhost', port: 6379 } }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
// No import of BackgroundTasksModule, which is global: beside the app's forRoot(), a plain one would be a second module.
@Module({
  providers: [BullMQBackend, BackgroundTasksQueue],
  exports: [BackgroundTasksQueue],
})
export class BackgroundTasksBullMQModule extends ConfigurableModuleClass {}
