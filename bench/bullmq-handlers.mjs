// The handler the BullMQ bench enqueues and its worker processes run: one
// class for both sides, so that the job's name and work are the same.
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { BackgroundTaskHandler } from '../dist/bullmq/index.js';

export class Handlers {
  record(order) {
    return order.items.length;
  }
}
Reflect.decorate(
  [BackgroundTaskHandler({ name: 'record' })],
  Handlers.prototype,
  'record',
  Object.getOwnPropertyDescriptor(Handlers.prototype, 'record'),
);
Injectable()(Handlers);
