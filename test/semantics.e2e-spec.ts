import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { events, gates, resetSemantics, SemanticsAppModule, taskErrors, weak } from './fixtures/semantics.app.js';
import { type CreateHttpAdapter, HTTP_ADAPTERS, listenOn } from './utils/adapters.js';
import { postThenLeave } from './utils/http.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { collectedWithin } from './utils/gc.js';
import { waitFor, within } from './utils/wait-for.js';

// Nest's logger override is process-wide, so every app of this file shares one.
const logger = new CapturingLogger();

async function startApp(createAdapter: CreateHttpAdapter): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [SemanticsAppModule] }).compile();
  return listenOn(moduleRef, createAdapter, { logger });
}

describe.each(HTTP_ADAPTERS)('Background task semantics (%s)', (_adapter, createAdapter) => {
  let app: INestApplication;

  // Jest fails the run on any unhandled rejection, so none of these may leak one.
  beforeAll(async () => {
    app = await startApp(createAdapter);
  });

  afterAll(() => app.close());

  beforeEach(() => {
    resetSemantics();
    logger.errors.length = 0;
  });

  describe('1. tasks run after the response has been sent', () => {
    it('answers the client while its task is still running', async () => {
      await request(app.getHttpServer()).post('/slow').expect(201, { queued: true });
      // The response is in; the task has started but cannot end until released.
      await waitFor('the task to start', () => events.length === 2);
      // It started after the raw response's 'close', not at 'prefinish' or 'finish'.
      expect(events).toEqual(['slow:response-close', 'slow:start:response-closed=true']);
      gates.task.resolve();
      await waitFor('the task to end', () => events.includes('slow:end'));
    });

    it('waits for a streamed body (StreamableFile) to be completely written', async () => {
      const res = await request(app.getHttpServer()).get('/stream').expect(200);
      expect(res.body.toString()).toBe('chunk0;chunk1;chunk2;chunk3;chunk4;');
      await waitFor('the task', () => events.length === 3);
      expect(events).toEqual(['stream:end', 'stream:response-close', 'task:response-closed=true']);
    });

    it('runs the tasks of BackgroundTasks resolved inside a handler (ModuleRef.resolve)', async () => {
      await request(app.getHttpServer()).post('/late').expect(201);
      await waitFor('the task', () => events.includes('late-task'));
      expect(events).toEqual(['late-task']);
    });
  });

  describe('2. order', () => {
    it('runs tasks one after another in the order added, awaiting async ones, including tasks added by a task', async () => {
      await request(app.getHttpServer()).post('/order').expect(201);
      await waitFor('all tasks', () => events.includes('d-added-by-c'));
      expect(events).toEqual(['a:start', 'a:end', 'b', 'c:start', 'c:end', 'd-added-by-c']);
    });
  });

  describe('3. errors', () => {
    it('keeps going after a throwing and a rejecting task, logs both and reports them to onTaskFailed', async () => {
      await request(app.getHttpServer()).post('/failing').expect(201);
      await waitFor('the last task', () => events.includes('after'));
      expect(events).toEqual(['before', 'after']);

      expect(taskErrors.map(({ error, duration, ...event }) => [(error as Error).message, typeof duration, event])).toEqual([
        ['sync boom', 'number', { name: 'throwsSync', args: [], transport: 'http', method: 'POST', path: '/failing' }],
        [
          'async boom',
          'number',
          { name: 'rejectsAsync', args: ['async boom'], transport: 'http', method: 'POST', path: '/failing' },
        ],
      ]);
      expect(logger.errors).toHaveLength(2);
      expect(logger.errors[0]).toContain('Background task "throwsSync" of POST /failing failed: sync boom');
      expect(logger.errors[1]).toContain('Background task "rejectsAsync" of POST /failing failed: async boom');
    });
  });

  describe('4. a failed request drops its tasks', () => {
    it.each([
      ['a guard denies', '/deny', 403],
      ['a guard throws', '/guard-throws', 401],
      ['a pipe throws', '/pipe-throws?q=x', 500],
      ['the handler throws', '/handler-throws', 500],
      ['the handler rejects', '/handler-rejects', 500],
      ['the handler returns normally with a 4xx status', '/answers-404', 404],
    ])('when %s', async (_case, path, status) => {
      // A fresh app, so that closing it proves nothing is still pending.
      const own = await startApp(createAdapter);
      await request(own.getHttpServer()).post(path).expect(status);
      await request(own.getHttpServer()).post('/marker').expect(201);
      await within(`close() of the app that answered ${path}`, own.close());
      expect(events).toEqual(['marker']);
    });
  });

  describe('4. a request that recovers from an error succeeds', () => {
    it('succeeds when an interceptor turns the error into a result, so its tasks run', async () => {
      await request(app.getHttpServer()).post('/recovered').expect(201, { recovered: true });
      await waitFor('the task', () => events.includes('recovered-task'));
    });

    it('succeeds when an exception filter answers with a 2xx status, so its tasks run', async () => {
      await request(app.getHttpServer()).post('/filtered').expect(200, { answered: true });
      await waitFor('the task', () => events.includes('filtered-task'));
    });
  });

  describe('5. client disconnects', () => {
    it('still runs the tasks when the handler succeeds after the client has gone', async () => {
      const { port } = app.getHttpServer().address() as AddressInfo;
      await postThenLeave(port, '/abort', gates.handlerEntered.promise);
      await waitFor('the server to see the client go', () => events.includes('abort:client-gone'));
      gates.handler.resolve();
      await waitFor('the task', () => events.includes('abort-task'));
      // 'finish' never fires for an aborted response; the tasks ran anyway.
      expect(events).toEqual(['abort:client-gone', 'abort-task']);
    });

    it('runs the tasks when the client goes away in the middle of a streamed body', async () => {
      const { port } = app.getHttpServer().address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const client = http.get({ host: '127.0.0.1', port, path: '/endless' }, (res) => {
          res.once('data', () => {
            client.destroy();
            resolve();
          });
        });
        client.on('error', (error) => (client.destroyed ? undefined : reject(error)));
      });
      await waitFor('the task', () => events.includes('endless-task'));
      expect(events).toEqual(['endless-task']);
    });
  });

  describe('7. bad input', () => {
    it('throws a TypeError naming what addTask got, and loses no other task', async () => {
      const res = await request(app.getHttpServer()).post('/bad-input').expect(200);
      expect(res.body.message).toBe(
        'TypeError: BackgroundTasks.addTask() expects a function as its first argument, got number (42).',
      );
      await waitFor('both valid tasks', () => events.length === 2);
      expect(events).toEqual(['valid-before', 'valid-after']);
    });

    it('ignores what tasks return', async () => {
      await request(app.getHttpServer()).post('/returns').expect(201);
      await waitFor('the last task', () => events.includes('after-returns'));
      expect(logger.errors).toEqual([]);
    });
  });

  describe('8. references', () => {
    it('keeps no reference to the request, its tasks or their arguments after the flush', async () => {
      await request(app.getHttpServer()).post('/retention').set('Connection', 'close').expect(201);
      await waitFor('the task', () => events.includes('retention:10000'));
      expect(await collectedWithin(weak.payload!)).toBe(true);
      expect(await collectedWithin(weak.tasks!)).toBe(true);
      expect(await collectedWithin(weak.request!)).toBe(true);
      expect(await collectedWithin(weak.nodeRequest!)).toBe(true);
    });
  });
});
