import { type INestApplication, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { BackgroundTasksMonitor } from '../lib/index.js';
import { ValidationAppModule, welcomed } from './fixtures/validation.app.js';
import { HTTP_ADAPTERS, listenOn } from './utils/adapters.js';
import { within } from './utils/wait-for.js';

// A ValidationPipe that validates or transforms custom decorators would otherwise build `new BackgroundTasks()`.
const CONFIGURATIONS: ReadonlyArray<[string, ValidationPipeOptions]> = [
  ['the defaults', {}],
  ['transform', { transform: true }],
  ['transform, validateCustomDecorators', { transform: true, validateCustomDecorators: true }],
  ['whitelist, validateCustomDecorators', { whitelist: true, validateCustomDecorators: true }],
  [
    'whitelist, forbidNonWhitelisted, transform, validateCustomDecorators',
    { whitelist: true, forbidNonWhitelisted: true, transform: true, validateCustomDecorators: true },
  ],
];

describe.each(HTTP_ADAPTERS)('A global ValidationPipe leaves @Background() alone (%s)', (_adapter, createAdapter) => {
  describe.each(CONFIGURATIONS)('with %s', (_name, options) => {
    let app: INestApplication;

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({ imports: [ValidationAppModule] }).compile();
      app = await listenOn(moduleRef, createAdapter, { logger: false });
      app.useGlobalPipes(new ValidationPipe(options));
    });

    afterAll(() => app.close());

    beforeEach(() => (welcomed.length = 0));

    it('hands the handler the very object the guard saw, and runs its task', async () => {
      const response = await request(app.getHttpServer()).post('/users').send({ email: 'ada@example.com' }).expect(201);
      expect(response.body).toEqual({ sameAsGuard: true, bodyIsDto: options.transform === true });
      await within('the welcome task', app.get(BackgroundTasksMonitor).whenIdle());
      expect(welcomed).toEqual(['ada@example.com']);
    });

    it('answers an invalid body with a 400, and runs no task', async () => {
      await request(app.getHttpServer()).post('/users').send({ email: 'not an email' }).expect(400);
      await within('the request to settle', app.get(BackgroundTasksMonitor).whenIdle());
      expect(welcomed).toEqual([]);
    });
  });
});
