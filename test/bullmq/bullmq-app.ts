import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import type { BackgroundTasksModuleOptions } from '../../lib/index.js';
import type { BackgroundTasksBullMQOptions } from '../../lib/bullmq/index.js';
import { bullmqAppModule } from '../fixtures/bullmq.app.js';
import type { TestRedis } from '../utils/redis.js';

let queues = 0;

/** A queue name no other test of this process uses. */
export function uniqueQueue(): string {
  return `q${process.pid}-${++queues}`;
}

/** Starts the fixture app on loopback, with the BullMQ module on `redis` (its options from a class, `fromClass`). */
export async function startBullMQApp(
  redis: TestRedis,
  options: Partial<BackgroundTasksBullMQOptions> = {},
  tasks: BackgroundTasksModuleOptions = {},
  { fromClass = false } = {},
): Promise<{ app: INestApplication; port: number }> {
  const bullmq = { connection: redis.connection, prefix: redis.prefix, queueName: uniqueQueue(), ...options };
  const app = await NestFactory.create(bullmqAppModule(bullmq, tasks, { fromClass }), { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port };
}

/** A plain BullMQ queue on the suite's Redis, to look at the jobs. */
export async function inspectQueue<T>(redis: TestRedis, queueName: string, look: (queue: Queue) => Promise<T>): Promise<T> {
  const connection = new Redis({ ...redis.connection, maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix: redis.prefix });
  try {
    return await look(queue);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
