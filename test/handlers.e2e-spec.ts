import { jest } from '@jest/globals';
import { Injectable, Module, Scope } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AppBackgroundTasks,
  BackgroundTaskHandler,
  BackgroundTasksMonitor,
  BackgroundTasksModule,
  type BackgroundTaskHook,
} from '../lib/index.js';
import { bullmqAppModule, journal, Mailer } from './fixtures/bullmq.app.js';
import { post } from './utils/http.js';
import { within } from './utils/wait-for.js';

/** @BackgroundTaskHandler() methods without the BullMQ module: they run in-process, on their provider. */
describe('@BackgroundTaskHandler() methods without a queue', () => {
  beforeEach(() => (journal.length = 0));

  it('scenario 11: runs addTask(this.mailer.sendWelcome, id) in-process, bound to its provider, named after it', async () => {
    const onTaskSucceeded = jest.fn<BackgroundTaskHook>();
    const app = await NestFactory.create(bullmqAppModule(undefined, { onTaskSucceeded }), { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      expect((await post(app.getHttpServer().address().port, '/signup/ada')).status).toBe(201);
      await within('the task', app.get(BackgroundTasksMonitor).whenIdle());
      expect(app.get(Mailer).sent).toEqual(['ada']);
      expect(onTaskSucceeded.mock.calls[0][0]).toMatchObject({ name: 'Mailer.sendWelcome', args: ['ada'], transport: 'http' });
      // No queue: no jobs block, and closures and Dates are fine.
      expect(app.get(BackgroundTasksMonitor).stats()).not.toHaveProperty('jobs');
      expect(JSON.parse((await post(app.getHttpServer().address().port, '/dated/bob')).body)).toEqual({ error: null });
    } finally {
      await app.close();
    }
  });

  it('gives a handler added with options its context, on its provider', async () => {
    const app = await NestFactory.createApplicationContext(bullmqAppModule(), { logger: false });
    try {
      app.get(AppBackgroundTasks).addTaskWithOptions({ name: 'slow one' }, app.get(Mailer).slow, 'one');
      await within('the task', app.get(BackgroundTasksMonitor).whenIdle());
      expect(journal).toEqual(['slow one start', 'slow one end']);
    } finally {
      await app.close();
    }
  });

  describe('stops startup', () => {
    const startWith = async (...providers: Array<new (...args: never[]) => object>) => {
      @Module({ imports: [BackgroundTasksModule.forRoot({})], providers })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
      await app.close();
    };

    it('when two handlers share a name', async () => {
      @Injectable()
      class A {
        @BackgroundTaskHandler({ name: 'send' })
        send() {}
      }
      @Injectable()
      class B {
        @BackgroundTaskHandler({ name: 'send' })
        send() {}
      }
      await expect(startWith(A, B)).rejects.toThrow(
        '@BackgroundTaskHandler(): two handlers are named "send". Jobs find their handler by name: ' +
          "give one of them another with @BackgroundTaskHandler({ name: '…' }), or provide the class once.",
      );
    });

    it('when a handler belongs to a request-scoped provider', async () => {
      @Injectable({ scope: Scope.REQUEST })
      class PerRequest {
        @BackgroundTaskHandler()
        send() {}
      }
      await expect(startWith(PerRequest)).rejects.toThrow(
        '@BackgroundTaskHandler(): "PerRequest.send" belongs to a request-scoped provider, which has no instance outside a request.',
      );
    });

    it.each([
      [{ atempts: 3 }, '@BackgroundTaskHandler() of "Bad.send": unknown option "atempts". Did you mean "attempts"?'],
      [
        { attempts: 0 },
        '@BackgroundTaskHandler() of "Bad.send": option "attempts" must be an integer of at least 1, got number (0).',
      ],
      [{ name: '' }, '@BackgroundTaskHandler() of "": option "name" must be a non-empty string, got a string ("").'],
      [
        { priority: -1 },
        '@BackgroundTaskHandler() of "Bad.send": option "priority" must be an integer of at least 0, got number (-1).',
      ],
      [{ delay: NaN }, '@BackgroundTaskHandler() of "Bad.send": option "delay" must be a non-negative number of milliseconds'],
    ])('when a handler has a bad option: %j', async (options, message) => {
      @Injectable()
      class Bad {
        @BackgroundTaskHandler(options as never)
        send() {}
      }
      await expect(startWith(Bad)).rejects.toThrow(message);
    });
  });
});
