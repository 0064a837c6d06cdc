import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TaskRunner } from '../lib/core/task-runner.js';
import { BackgroundTasksMonitor } from '../lib/index.js';
import { requestTasksOf } from '../lib/request-scope/background-tasks.provider.js';
import { audited, DurableAppModule, ResolvingAppModule } from './fixtures/request-contexts.app.js';
import { within } from './utils/wait-for.js';

describe('BackgroundTasks where REQUEST is not an HTTP request', () => {
  beforeEach(() => (audited.length = 0));

  describe('moduleRef.resolve()', () => {
    let app: INestApplication;

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({ imports: [ResolvingAppModule] }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
    });

    afterAll(() => app.close());

    it.each(['without-context', 'unregistered'])('explains how to resolve it with the request registered: %s', async (route) => {
      const { body } = await request(app.getHttpServer()).post(`/resolve/${route}`).expect(201);
      expect(body.error).toMatch(/^BackgroundTasks was resolved without a request: Nest has none registered for this context id/);
      expect(body.error).toContain('moduleRef.registerRequestByContextId(request, contextId)');
    });

    it('works as the message says: with the request registered under its context id', async () => {
      const { body } = await request(app.getHttpServer()).post('/resolve/registered').expect(201);
      expect(body.error).toBeNull();
      await within('the audit task', app.get(BackgroundTasksMonitor).whenIdle());
      expect(audited).toEqual(['resolved']);
    });
  });

  // Before @nestjs/core 12.2.0 Nest recorded no constructor dependencies of a REQUEST-scoped provider at
  // startup, so this check could not see the path: hence the peer range's floor of 12.2.0.
  it('stops startup for a durable provider that depends on BackgroundTasks, naming it', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [DurableAppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await expect(app.init()).rejects.toThrow(
        /^TenantAudit is a durable provider and depends on BackgroundTasks, which is per request/,
      );
    } finally {
      await app.close();
    }
  });

  describe('each other kind of REQUEST gets its own message', () => {
    const runner = new TaskRunner();

    it.each<[string, unknown, RegExp]>([
      ['none (undefined)', undefined, /^BackgroundTasks was resolved without a request/],
      [
        'a GraphQL subscription’s context, which has no HTTP request',
        { connectionParams: {}, extra: {} },
        /^BackgroundTasks got a REQUEST that is neither an HTTP request, a GraphQL context over HTTP/,
      ],
      [
        'a durable tree’s payload',
        { tenantId: 'acme' },
        /^BackgroundTasks got a REQUEST that is neither an HTTP request.*ContextIdStrategy/,
      ],
    ])('%s', (_kind, request, message) => {
      expect(() => requestTasksOf(request, runner)).toThrow(message);
    });

    it('a WebSocket client: an object whose every use explains', () => {
      const client = { send: () => undefined, readyState: 1 };
      const tasks = requestTasksOf(client, runner);
      const connectionScoped =
        /^BackgroundTasks cannot be injected here: Nest creates request-scoped providers once per WebSocket connection/;
      expect(() => tasks.addTask(() => undefined)).toThrow(connectionScoped);
      expect(() => tasks.addTaskWithOptions({}, () => undefined)).toThrow(connectionScoped);
      expect(() => tasks.cancel('x')).toThrow(connectionScoped);
      expect(() => (tasks.concurrent = true)).toThrow(connectionScoped);
    });
  });
});
