import { ConsoleLogger, type DynamicModule, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundTasksMonitor, BackgroundTasksModule } from '../../lib/index.js';
import { BackgroundTasksBullMQModule, BackgroundTasksQueue } from '../../lib/bullmq/index.js';
import { Mailer } from '../fixtures/bullmq.app.js';
import { describeWithRedis } from '../utils/redis.js';
import { uniqueQueue } from './bullmq-app.js';

/** Keeps every log line and warning, with its context. */
class RecordingLogger extends ConsoleLogger {
  readonly lines: string[] = [];

  override log(message: unknown, context?: unknown): void {
    this.lines.push(`${String(context)}: ${String(message)}`);
  }

  override error(): void {}
  override warn(message: unknown, context?: unknown): void {
    this.lines.push(`warning, ${String(context)}: ${String(message)}`);
  }

  override debug(): void {}
  override verbose(): void {}
}

/** What a worker app logs, from its start to its close, as `npm run start:worker` runs one. */
describeWithRedis('BullMQ: what a worker app logs', (redis) => {
  async function logsOf(backgroundTasks: Type | DynamicModule, queueName = uniqueQueue()): Promise<string[]> {
    @Module({
      imports: [
        backgroundTasks,
        BackgroundTasksBullMQModule.forRoot({
          connection: redis().connection,
          prefix: redis().prefix,
          queueName,
          worker: { concurrency: 3 },
        }),
      ],
      providers: [Mailer],
    })
    class WorkerModule {}
    const logger = new RecordingLogger();
    const app = await NestFactory.createApplicationContext(WorkerModule, { logger });
    expect(app.get(BackgroundTasksMonitor).stats().jobs).toBeDefined();
    // Closed while still connecting, it would say its store is unreachable.
    await app.get(BackgroundTasksQueue).worker!.waitUntilReady();
    await app.close();
    return logger.lines;
  }
  const initialized = (lines: string[]) =>
    lines.filter((line) => line === 'InstanceLoader: BackgroundTasksModule dependencies initialized');

  it('initializes BackgroundTasksModule once, configured beside the BullMQ module', async () => {
    expect(initialized(await logsOf(BackgroundTasksModule.forRoot({ shutdownTimeout: 1000 })))).toHaveLength(1);
  });

  it('initializes it once too when the app imports it plainly', async () => {
    expect(initialized(await logsOf(BackgroundTasksModule))).toHaveLength(1);
  });

  it("logs the worker's start, with its queue, concurrency and handlers, and its stop", async () => {
    const ours = (await logsOf(BackgroundTasksModule.forRoot({}), 'logged')).filter((line) =>
      line.startsWith('BackgroundTasks: '),
    );
    expect(ours).toEqual([
      'BackgroundTasks: BullMQ worker of queue "logged" started: it runs up to 3 jobs at a time, of the handlers ' +
        '"Mailer.sendWelcome", "audit", "flaky", "slow", "cancellable", "stubborn", "withFollowUp".',
      'BackgroundTasks: BullMQ worker of queue "logged" stopped.',
    ]);
  });
});
