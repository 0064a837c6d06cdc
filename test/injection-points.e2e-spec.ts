import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { InjectionPointsAppModule, POINTS, runs, seen } from './fixtures/injection-points.app.js';
import { HTTP_ADAPTERS, listenOn } from './utils/adapters.js';
import { waitFor } from './utils/wait-for.js';

describe.each(HTTP_ADAPTERS)('One BackgroundTasks per request, at every injection point (%s)', (_adapter, createAdapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [InjectionPointsAppModule] }).compile();
    app = await listenOn(moduleRef, createAdapter);
  });

  afterAll(() => app.close());

  beforeEach(() => {
    runs.length = 0;
    seen.clear();
  });

  it('gives guards, pipes, interceptors, controller, service and @Background() the same object, and merges their tasks in order', async () => {
    await request(app.getHttpServer()).get('/everywhere?id=one').expect(200, { id: 'one' });

    await waitFor('all tasks of the request', () => runs.length === POINTS.length);
    expect(runs).toEqual(POINTS.map((point) => `one:${point}`));
    expect(seen.get('one')?.size).toBe(1);
  });

  it('keeps concurrent requests apart: each task runs exactly once, with its own arguments', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `r${i}`);
    const server = app.getHttpServer();
    await Promise.all(ids.map((id) => request(server).get(`/everywhere?id=${id}`).expect(200, { id })));

    await waitFor('every task of every request', () => runs.length === ids.length * POINTS.length);
    for (const id of ids) {
      expect(runs.filter((run) => run.startsWith(`${id}:`))).toEqual(POINTS.map((point) => `${id}:${point}`));
      expect(seen.get(id)?.size).toBe(1);
    }
    expect(new Set([...seen.values()].map((set) => [...set][0])).size).toBe(ids.length);
  });
});
