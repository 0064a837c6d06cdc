// A worker process of bench/bullmq.mjs: the BullMQ module's worker, with one
// trivial handler. Env: REDIS_PATH (Unix socket), QUEUE, CONCURRENCY.
// Sends 'ready' over IPC once its app is up.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundTasksModule } from '../dist/index.js';
import { BackgroundTasksBullMQModule } from '../dist/bullmq/index.js';
import { Handlers } from './bullmq-handlers.mjs';

const { REDIS_PATH, QUEUE, CONCURRENCY } = process.env;

class WorkerModule {}
Module({
  imports: [
    BackgroundTasksModule.forRoot({}),
    BackgroundTasksBullMQModule.forRoot({
      connection: { path: REDIS_PATH },
      queueName: QUEUE,
      worker: { concurrency: Number(CONCURRENCY) },
    }),
  ],
  providers: [Handlers],
})(WorkerModule);

const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error', 'warn'] });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
process.send?.('ready');
