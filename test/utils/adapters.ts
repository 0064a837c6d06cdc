import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { TestingModule } from '@nestjs/testing';

export type CreateHttpAdapter = () => AbstractHttpAdapter;

/**
 * The HTTP platforms the library supports, for `describe.each`: the name goes
 * into the describe title, the factory makes a new adapter for each app.
 */
export const HTTP_ADAPTERS: ReadonlyArray<readonly [name: string, create: CreateHttpAdapter]> = [
  ['Express', () => new ExpressAdapter()],
  ['Fastify', () => new FastifyAdapter()],
];

/** An app of the compiled module on a new adapter, listening on 127.0.0.1 at a free port. */
export async function listenOn(
  moduleRef: TestingModule,
  createAdapter: CreateHttpAdapter,
  options: NestApplicationOptions = {},
): Promise<INestApplication> {
  const app = moduleRef.createNestApplication(createAdapter(), options);
  await app.listen(0, '127.0.0.1');
  return app;
}
