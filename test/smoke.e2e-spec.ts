import { Controller, INestApplication, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Background, BackgroundTasks, BackgroundTasksModule } from '../lib/index.js';
import { waitFor } from './utils/wait-for.js';

const log: string[] = [];
@Controller()
class C {
  @Post('x')
  x(@Background() tasks: BackgroundTasks) {
    tasks.addTask((m: string) => log.push(m), 'hello');
    return { ok: true };
  }
}

describe('smoke', () => {
  let app: INestApplication;
  beforeAll(async () => {
    const ref = await Test.createTestingModule({ imports: [BackgroundTasksModule], controllers: [C] }).compile();
    app = ref.createNestApplication();
    await app.init();
  });
  afterAll(() => app.close());
  it('runs', async () => {
    await request(app.getHttpServer()).post('/x').expect(201);
    await waitFor('log', () => log.length === 1);
    expect(log).toEqual(['hello']);
  });
});
