import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { type AbstractHttpAdapter, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { queueImports } from './welcome/queue.js';

/** The HTTP platforms the sample runs on; BackgroundTasks works the same on both. */
export const SAMPLE_ADAPTERS = ['express', 'fastify'] as const;

/** A new adapter of that name (`ADAPTER=fastify npm start`); Express when none is given. */
export function httpAdapter(name = 'express'): AbstractHttpAdapter {
  switch (name.toLowerCase()) {
    case 'express':
      return new ExpressAdapter();
    case 'fastify':
      return new FastifyAdapter();
    default:
      throw new Error(`ADAPTER must be one of ${SAMPLE_ADAPTERS.join(', ')}; got "${name}".`);
  }
}

/**
 * The sample app on the named HTTP adapter, not listening yet. With a Redis
 * URL, its durable task becomes a BullMQ job for the worker process.
 */
export function createSampleApp(
  adapter?: string,
  options?: NestApplicationOptions,
  redisUrl?: string,
): Promise<INestApplication> {
  // AppModule with the queue's imports added: a dynamic module, which every Nest 12 takes as the root
  // (a bare `{ imports }` needs @nestjs/core 12.5.1).
  return NestFactory.create({ module: AppModule, imports: queueImports(redisUrl, false) }, httpAdapter(adapter), options);
}
