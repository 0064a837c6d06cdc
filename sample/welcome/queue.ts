import type { DynamicModule } from '@nestjs/common';
import { BackgroundTasksBullMQModule } from 'nestjs-background-tasks/bullmq';

/**
 * The BullMQ module on `redisUrl`, if there is one: the web process only
 * enqueues (`worker: false`), the worker process runs the jobs. Without it,
 * nothing: durable tasks then run in-process, like any other.
 */
export function queueImports(redisUrl: string | undefined, worker: boolean): DynamicModule[] {
  if (redisUrl === undefined) return [];
  return [BackgroundTasksBullMQModule.forRoot({ connection: { url: redisUrl }, worker })];
}
