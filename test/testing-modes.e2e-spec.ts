import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { setTimeout } from 'node:timers/promises';
import request from 'supertest';
import { BACKGROUND_TASKS_MODULE_OPTIONS, BackgroundTaskRunner } from '../lib/index.js';
import { AppModule, Mailer } from './fixtures/testing-modes.app.js';

// The README's complete testing example, as written there.
describe('sign-up', () => {
  let app: INestApplication;
  const sent: string[] = [];
  const mailer = {
    async sendWelcome(to: string) {
      await setTimeout(10); // the SMTP round trip
      sent.push(to);
    },
  };

  async function start(mode: 'background' | 'inline' | 'disabled') {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(Mailer)
      .useValue(mailer)
      .overrideProvider(BACKGROUND_TASKS_MODULE_OPTIONS)
      .useValue({ mode })
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
  }

  beforeEach(() => (sent.length = 0));
  afterEach(() => app.close());

  it('sends the welcome email after the response', async () => {
    await start('background');
    await request(app.getHttpServer()).post('/users').send({ email: 'a@b.c' }).expect(201);
    await app.get(BackgroundTaskRunner).whenIdle();
    expect(sent).toEqual(['a@b.c']);
  });

  it('has sent it when the response arrives, inline', async () => {
    await start('inline');
    await request(app.getHttpServer()).post('/users').send({ email: 'a@b.c' }).expect(201);
    expect(sent).toEqual(['a@b.c']);
  });

  it('sends nothing when tasks are disabled', async () => {
    await start('disabled');
    await request(app.getHttpServer()).post('/users').send({ email: 'a@b.c' }).expect(201);
    await app.get(BackgroundTaskRunner).whenIdle();
    expect(sent).toEqual([]);
    expect(app.get(BackgroundTaskRunner).stats()).toMatchObject({ dropped: 1, succeeded: 0 });
  });
});
