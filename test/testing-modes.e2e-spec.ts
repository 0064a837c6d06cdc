import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { setTimeout } from 'node:timers/promises';
import request from 'supertest';
import { BACKGROUND_TASKS_MODE, BackgroundTasksMonitor } from '../lib/index.js';
import { AppModule, Mailer } from './fixtures/testing-modes.app.js';
import { deferred, within } from './utils/wait-for.js';

// The complete testing example of docs/testing.md, as written there, and the 'disabled' case it describes in a sentence.
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
      .overrideProvider(BACKGROUND_TASKS_MODE)
      .useValue(mode)
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
  }

  beforeEach(() => (sent.length = 0));
  afterEach(() => app.close());

  it('sends the welcome email after the response', async () => {
    await start('background');
    await request(app.getHttpServer()).post('/users').send({ email: 'a@b.c' }).expect(201);
    await app.get(BackgroundTasksMonitor).whenIdle();
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
    await app.get(BackgroundTasksMonitor).whenIdle();
    expect(sent).toEqual([]);
    expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ dropped: 1, succeeded: 0 });
  });
});

// Beyond docs/testing.md: what its first test cannot see, that the email goes out only after the response.
describe('sign-up, in the default mode', () => {
  it('has not sent the email when the response arrives; sends it once the mailer answers', async () => {
    const sent: string[] = [];
    const smtp = deferred();
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(Mailer)
      .useValue({
        async sendWelcome(to: string) {
          await smtp.promise;
          sent.push(to);
        },
      })
      .compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    try {
      await request(app.getHttpServer()).post('/users').send({ email: 'a@b.c' }).expect(201);
      expect(sent).toEqual([]);
      expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ running: 1, succeeded: 0 });
      smtp.resolve();
      await within('the welcome email', app.get(BackgroundTasksMonitor).whenIdle());
      expect(sent).toEqual(['a@b.c']);
    } finally {
      await app.close();
    }
  });
});
