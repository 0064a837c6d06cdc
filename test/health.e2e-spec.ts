import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppBackgroundTasks, BackgroundTasksMonitor } from '../lib/index.js';
import { BackgroundTasksHealthIndicator } from '../lib/terminus/index.js';
import { HealthAppModule } from './fixtures/health.app.js';
import { deferred, waitFor, within } from './utils/wait-for.js';

describe('BackgroundTasksHealthIndicator, behind a real TerminusModule endpoint', () => {
  let app: INestApplication;
  let gate: ReturnType<typeof deferred<void>>;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HealthAppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    gate = deferred();
  });

  afterEach(async () => {
    gate.resolve();
    await within('close()', app.close());
  });

  /** One task holds the only slot (concurrency: 1); the others queue behind it. */
  async function occupy(queued: number): Promise<void> {
    const tasks = app.get(AppBackgroundTasks);
    tasks.addTask(async function holdsTheSlot() {
      await gate.promise;
    });
    await waitFor('the first task to start', () => app.get(BackgroundTasksMonitor).stats().running === 1);
    for (let i = 0; i < queued; i++) tasks.addTaskWithOptions({ name: `queued-${i}` }, () => undefined);
  }

  it('is up with the counts when the queue is short', async () => {
    await occupy(2);
    const { body } = await request(app.getHttpServer()).get('/health').expect(200);
    expect(body.info.backgroundTasks).toEqual({
      status: 'up',
      queued: 2,
      running: 1,
      maxQueued: 10,
      oldestQueued: { name: 'queued-0', age: expect.any(Number), transport: 'none', method: '', path: '' },
    });
  });

  it('is down (503) when more than 90% of maxQueued is queued', async () => {
    await occupy(10);
    const { body } = await request(app.getHttpServer()).get('/health').expect(503);
    expect(body.error.backgroundTasks).toMatchObject({
      status: 'down',
      queued: 10,
      running: 1,
      message: 'More than 90% of maxQueued is queued.',
    });
  });

  it('is down when the oldest queued task has waited longer than maxQueueWait', async () => {
    await occupy(1);
    // By the time the request is answered, the queued task has waited more than 0 ms.
    const { body } = await request(app.getHttpServer()).get('/health?wait=0').expect(503);
    expect(body.error.backgroundTasks).toMatchObject({
      status: 'down',
      message: expect.stringMatching(/^The oldest queued task has waited over \d+ ms\.$/),
    });
    await request(app.getHttpServer()).get('/health?wait=60000').expect(200);
  });

  it.each<[string, object, string]>([
    [
      'an unknown option',
      { maxQueueWiat: 5 },
      'BackgroundTasksHealthIndicator.isHealthy(): unknown option "maxQueueWiat". Did you mean "maxQueueWait"?',
    ],
    [
      'a share above 1',
      { maxQueuedShare: 90 },
      'option "maxQueuedShare" must be a number above 0 and at most 1, got number (90).',
    ],
    ['a negative wait', { maxQueueWait: -1 }, 'option "maxQueueWait" must be a non-negative number of milliseconds'],
  ])('rejects %s with a TypeError', (_what, options, message) => {
    const indicator = app.get(BackgroundTasksHealthIndicator);
    expect(() => indicator.isHealthy('backgroundTasks', options)).toThrow(TypeError);
    expect(() => indicator.isHealthy('backgroundTasks', options)).toThrow(message);
  });
});
