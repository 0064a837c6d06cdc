// The app of bench/threads.mjs: GET /ping answers at once; POST /cpu/loop and
// POST /cpu/thread each add a task that burns 300 ms of CPU, on the event
// loop or in a thread task; POST /cpu/none adds none. GET /idle answers once every task has ended, with
// the stats. POST /warm adds a trivial thread task. Prints its port as one JSON line.
import 'reflect-metadata';
import { Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Background, BackgroundTasksModule, BackgroundTasksMonitor } from '../dist/index.js';
import { burn, burnInThread, nothingInThread } from './threads-task.mjs';

export const TASK_MS = 300;

class BenchController {
  constructor(monitor) {
    this.monitor = monitor;
  }
  ping() {
    return 'pong';
  }
  none() {}
  loop(tasks) {
    tasks.addTask(burn, TASK_MS);
  }
  thread(tasks) {
    tasks.addTask(burnInThread, TASK_MS);
  }
  /** A trivial thread task, for the warm-up: an app that has been up a while has its pool started. */
  warm(tasks) {
    tasks.addTask(nothingInThread);
  }
  async idle() {
    await this.monitor.whenIdle();
    return this.monitor.stats();
  }
}
const route = (decorators, method) =>
  Reflect.decorate(
    decorators,
    BenchController.prototype,
    method,
    Object.getOwnPropertyDescriptor(BenchController.prototype, method),
  );
route([Get('ping')], 'ping');
route([Post('cpu/none'), HttpCode(202)], 'none');
for (const method of ['loop', 'thread']) {
  Background()(BenchController.prototype, method, 0);
  route([Post(`cpu/${method}`), HttpCode(202)], method);
}
Background()(BenchController.prototype, 'warm', 0);
route([Post('warm'), HttpCode(202)], 'warm');
route([Get('idle')], 'idle');
Reflect.defineMetadata('design:paramtypes', [BackgroundTasksMonitor], BenchController);
Controller()(BenchController);

class BenchModule {}
Module({ imports: [BackgroundTasksModule.forRoot({})], controllers: [BenchController] })(BenchModule);

const app = await NestFactory.create(BenchModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
console.log(JSON.stringify({ port: app.getHttpServer().address().port }));
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
