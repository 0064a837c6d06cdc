import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule } from '@nestjs/bullmq';
import { AppBackgroundTasks, BackgroundTasksMonitor, BackgroundTasksModule } from '../../lib/index.js';
import { BackgroundTasksBullMQModule } from '../../lib/bullmq/index.js';
import { journal, Mailer, SignupController } from '../fixtures/bullmq.app.js';
import { post } from '../utils/http.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor } from '../utils/wait-for.js';
import { startBullMQApp, uniqueQueue } from './bullmq-app.js';

describeWithRedis('BullMQ: what addTask() accepts', (redis) => {
  let app: INestApplication | undefined;
  let port: number;

  beforeEach(() => (journal.length = 0));

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('scenario 7: rejects arguments that JSON would change with a TypeError at addTask, naming the argument and the path; the request answers', async () => {
    ({ app, port } = await startBullMQApp(redis()));
    const { status, body } = await post(port, '/dated/ada');
    expect(status).toBe(201);
    expect(JSON.parse(body).error).toBe(
      'BackgroundTasks: "audit" runs as a BullMQ job, whose arguments travel as JSON, but argument 1: .at is a Date. ' +
        'Pass JSON values, arrays and plain objects: ids rather than entities, date.toISOString() rather than a Date.',
    );
    const tasks = app.get(AppBackgroundTasks);
    const mailer = app.get(Mailer);
    expect(() => tasks.addTask(mailer.flaky, 'x', NaN)).toThrow(/but argument 2 is NaN\./);
    expect(() => tasks.addTask(mailer.audit, { user: 'a', at: '', items: [1, 2, 3, { at: new Date() }] } as never)).toThrow(
      /argument 1: \.items\[3\]\.at is a Date\./,
    );
    expect(() => tasks.addTask(mailer.sendWelcome, new Map() as never)).toThrow(/argument 1 is a Map\./);
    await app.get(BackgroundTasksMonitor).whenIdle();
    expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ queued: 0, running: 0, jobs: { dispatched: 0 } });
  });

  it('scenario 11: requireDurable makes a closure an error at addTask; handlers still run as jobs', async () => {
    ({ app, port } = await startBullMQApp(redis(), { requireDurable: true }));
    expect(JSON.parse((await post(port, '/closure')).body).error).toBe(
      'BackgroundTasks: "anonymous" is not a @BackgroundTaskHandler() method, and requireDurable is set: every task must run as a BullMQ job. ' +
        'Mark a provider method with @BackgroundTaskHandler() and pass it (tasks.addTask(this.mailer.sendWelcome, id)), ' +
        'or set requireDurable: false to let closures run in this process.',
    );
    await post(port, '/signup/ada');
    await waitFor('the job', () => journal.includes('welcome ada'));
    expect(journal).toEqual(['welcome ada']);
  });

  it('reuses the connection and prefix of BullModule.forRoot() of @nestjs/bullmq', async () => {
    const queueName = uniqueQueue();
    @Module({
      imports: [
        BullModule.forRoot({ connection: redis().connection, prefix: redis().prefix }),
        BackgroundTasksModule.forRoot({}),
        BackgroundTasksBullMQModule.forRoot({ queueName }),
      ],
      controllers: [SignupController],
      providers: [Mailer],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    await post(app.getHttpServer().address().port, '/signup/reused');
    await waitFor('the job', () => journal.includes('welcome reused'));
    expect(app.get(BackgroundTasksMonitor).stats().jobs).toMatchObject({ dispatched: 1, succeeded: 1 });
  });
});
