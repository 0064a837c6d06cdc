import { type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { jest } from '@jest/globals';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { TaskRunner } from '../lib/core/task-runner.js';
import {
  BACKGROUND_TASKS_MODE,
  BackgroundTasksMonitor,
  BackgroundTasksModule,
  type BackgroundTaskHook,
  type BackgroundTasksModuleOptions,
} from '../lib/index.js';
import {
  BackgroundTasksConfig,
  ConfigModule,
  ConfigWithFactoryModule,
  constructed,
  failing,
  FailingController,
  FeatureModule,
  InjectedController,
  NoImportFeatureModule,
  OPTIONS_FROM_CONFIG,
  PingGateway,
  PingResolver,
  PingMessageController,
  PlainController,
  runs,
} from './fixtures/registration.app.js';
import { waitFor, within } from './utils/wait-for.js';

async function start(imports: Array<Type | DynamicModule>): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports,
    controllers: [PlainController, InjectedController, FailingController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

/** Sends one request per label and waits for every task, then closes the app. */
async function runEach(app: INestApplication, path: string, labels: string[]): Promise<void> {
  await Promise.all(labels.map((label) => request(app.getHttpServer()).post(`${path}?label=${label}`).expect(201)));
  await waitFor('every task', () => runs.length >= labels.length);
  // close() drains, so a duplicate run would show up below.
  await app.close();
}

const shutdownTimeoutOf = (app: INestApplication) => app.get(TaskRunner).options.shutdownTimeout;

describe('BackgroundTasksModule registration', () => {
  beforeEach(() => {
    runs.length = 0;
    constructed.singleton = 0;
    constructed.injected = 0;
  });

  it.each<[string, () => Array<Type | DynamicModule>, number]>([
    ['a plain import, with defaults', () => [BackgroundTasksModule], 10_000],
    ['forRoot(options)', () => [BackgroundTasksModule.forRoot({ shutdownTimeout: 50 })], 50],
    [
      'forRootAsync({ imports, inject, useFactory })',
      () => [
        BackgroundTasksModule.forRootAsync({
          imports: [ConfigModule],
          inject: [OPTIONS_FROM_CONFIG],
          useFactory: (options: { shutdownTimeout: number }) => options,
        }),
      ],
      1234,
    ],
    [
      'forRootAsync({ imports, useClass })',
      () => [BackgroundTasksModule.forRootAsync({ imports: [ConfigModule], useClass: BackgroundTasksConfig })],
      1234,
    ],
    [
      'forRootAsync({ imports, useExisting })',
      () => [BackgroundTasksModule.forRootAsync({ imports: [ConfigWithFactoryModule], useExisting: BackgroundTasksConfig })],
      1234,
    ],
  ])('works as %s', async (_form, imports, shutdownTimeout) => {
    const app = await start(imports());
    expect(shutdownTimeoutOf(app)).toBe(shutdownTimeout);
    await runEach(app, '/injected', ['a', 'b', 'c']);
    expect(runs.sort()).toEqual(['a', 'b', 'c']);
  });

  it.each<[string, () => Array<Type | DynamicModule>]>([
    ['in several modules', () => [BackgroundTasksModule, FeatureModule]],
    ['in both forms', () => [BackgroundTasksModule.forRoot({ shutdownTimeout: 50 }), FeatureModule]],
    [
      'with forRoot twice, with the same options',
      () => [
        BackgroundTasksModule.forRoot({ shutdownTimeout: 1 }),
        BackgroundTasksModule.forRoot({ shutdownTimeout: 1 }),
        FeatureModule,
      ],
    ],
  ])('runs every task exactly once when imported %s', async (_how, imports) => {
    const app = await start(imports());
    const labels = Array.from({ length: 20 }, (_, i) => `t${i}`);
    await runEach(app, '/param', labels.slice(0, 10));
    expect(runs.sort()).toEqual(labels.slice(0, 10).sort());

    runs.length = 0;
    const again = await start(imports());
    await runEach(again, '/injected', labels.slice(10));
    expect(runs.sort()).toEqual(labels.slice(10).sort());
  });

  describe('one runner and one set of options per app', () => {
    const onTaskFailed = jest.fn<BackgroundTaskHook>();
    const configured = { concurrency: 1, shutdownTimeout: 100, onTaskFailed };
    const delayedOptions = {
      useFactory: async () => {
        await setImmediatePromise();
        return configured;
      },
    };

    it.each<[string, () => Array<Type | DynamicModule>]>([
      [
        'forRoot() at the root, then a plain import in a feature module',
        () => [BackgroundTasksModule.forRoot(configured), FeatureModule],
      ],
      [
        'a plain import in a feature module, then forRoot() at the root',
        () => [FeatureModule, BackgroundTasksModule.forRoot(configured)],
      ],
      [
        'forRootAsync() at the root, then a plain import',
        () => [BackgroundTasksModule.forRootAsync(delayedOptions), FeatureModule],
      ],
      [
        'a plain import, then forRootAsync() at the root',
        () => [FeatureModule, BackgroundTasksModule.forRootAsync(delayedOptions)],
      ],
    ])('a plain import never overrides the configured one: %s', async (_order, imports) => {
      onTaskFailed.mockClear();
      const app = await start(imports());
      const runner = app.get(TaskRunner);
      expect(runner.options).toMatchObject(configured);
      // Every import's factory returns the one runner.
      expect(new Set(app.get(TaskRunner, { each: true, strict: false }))).toEqual(new Set([runner]));

      // concurrency 1: the failing tasks of two requests run one at a time, and the root's hook hears of each.
      let running = 0;
      let most = 0;
      failing.mockImplementation(async () => {
        most = Math.max(most, ++running);
        await setImmediatePromise();
        running--;
        throw new Error('boom');
      });
      await Promise.all(['x', 'y', 'z'].map((label) => request(app.getHttpServer()).post(`/failing?label=${label}`).expect(201)));
      await within('the failing tasks to end', app.get(BackgroundTasksMonitor).whenIdle());
      expect(most).toBe(1);
      expect(onTaskFailed).toHaveBeenCalledTimes(3);
      await app.close();
    });

    it('stops startup when two configured imports differ, naming both values', async () => {
      const report = () => undefined;
      const imports = [
        BackgroundTasksModule.forRoot({ concurrency: 1 }),
        BackgroundTasksModule.forRoot({ concurrency: 5, onTaskFailed: report }),
      ];
      await expect(start(imports)).rejects.toThrow(
        'BackgroundTasksModule is configured twice, with different options (concurrency: 1 and 5; onTaskFailed: none and function report).',
      );
    });

    it('lets two configured imports with equal tracing options agree, and names both when they differ', async () => {
      const app = await start([
        BackgroundTasksModule.forRoot({ tracing: true }),
        BackgroundTasksModule.forRoot({ tracing: { parent: 'link', metrics: true } }),
      ]);
      expect(app.get(TaskRunner).options.tracing).toEqual({ parent: 'link', metrics: true });
      expect(new Set(app.get(TaskRunner, { each: true, strict: false })).size).toBe(1);
      await app.close();
      await expect(
        start([
          BackgroundTasksModule.forRoot({ tracing: true }),
          BackgroundTasksModule.forRoot({ tracing: { parent: 'child' } }),
        ]),
      ).rejects.toThrow(
        'BackgroundTasksModule is configured twice, with different options (tracing: {"parent":"link","metrics":true} and {"parent":"child","metrics":true}).',
      );
    });

    it('lets a test override only the mode, keeping the hooks', async () => {
      const onTaskSucceeded = jest.fn<BackgroundTaskHook>();
      const moduleRef = await Test.createTestingModule({
        imports: [BackgroundTasksModule.forRoot({ shutdownTimeout: 100, onTaskSucceeded }), FeatureModule],
      })
        .overrideProvider(BACKGROUND_TASKS_MODE)
        .useValue('inline')
        .compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      expect(app.get(TaskRunner).options).toMatchObject({ mode: 'inline', shutdownTimeout: 100, onTaskSucceeded });
      // Inline: the task has run when the response arrives.
      await request(app.getHttpServer()).post('/param?label=inline').expect(201);
      expect(runs).toEqual(['inline']);
      expect(onTaskSucceeded).toHaveBeenCalledTimes(1);
      await app.close();
    });
  });

  it('is global: a module that does not import it can inject BackgroundTasks', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [BackgroundTasksModule, NoImportFeatureModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    await runEach(app, '/injected', ['x']);
    expect(runs).toEqual(['x']);
  });

  it('leaves controllers that do not use BackgroundTasks singletons', async () => {
    const app = await start([BackgroundTasksModule]);
    for (let i = 0; i < 3; i++) {
      await request(app.getHttpServer()).post('/plain').expect(201);
      await request(app.getHttpServer()).post(`/injected?label=${i}`).expect(201);
    }
    await app.close();
    expect(constructed).toEqual({ singleton: 1, injected: 3 });
  });

  it.each<[string, number, BackgroundTasksModuleOptions, Array<Type>, Array<Type>]>([
    ['an HTTP app', 0, {}, [PlainController, InjectedController], []],
    ["an HTTP app in mode 'inline'", 1, { mode: 'inline' }, [PlainController], []],
    ["an HTTP app in mode 'disabled'", 0, { mode: 'disabled' }, [PlainController], []],
    ['an app with a message handler', 1, {}, [PlainController, PingMessageController], []],
    ['an app with a WebSocket gateway', 1, {}, [PlainController], [PingGateway]],
    ['an app with a GraphQL resolver', 0, {}, [PlainController], [PingResolver]],
  ])('gives %s %d global interceptor(s)', async (_app, count, options, controllers, providers) => {
    const moduleRef = await Test.createTestingModule({
      imports: [BackgroundTasksModule.forRoot(options)],
      controllers,
      providers,
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    // Where APP_INTERCEPTOR providers end up. Nest keeps what a factory returned, undefined included, and leaves
    // the undefined ones out of each route's interceptors; with none left, it skips its interceptor machinery.
    const config = (app as unknown as { config: ApplicationConfig }).config;
    expect(config.getGlobalInterceptors().filter(Boolean)).toHaveLength(count);
    await app.close();
  });

  const shutdownTimeoutRule = 'must be a non-negative number of milliseconds, at most 2147483647, or Infinity; got';
  const timeoutRule = 'must be a positive number of milliseconds, at most 2147483647, or Infinity; got';
  it.each([
    [{ shutdownTimeout: -1 }, `option "shutdownTimeout" ${shutdownTimeoutRule} number (-1)`],
    [{ shutdownTimeout: '10s' }, `option "shutdownTimeout" ${shutdownTimeoutRule} a string ("10s")`],
    [{ shutdownTimeout: Number.NaN }, `option "shutdownTimeout" ${shutdownTimeoutRule} number (NaN)`],
    [{ shutdownTimeout: 2 ** 31 }, `option "shutdownTimeout" ${shutdownTimeoutRule} number (2147483648)`],
    [{ taskTimeout: -5 }, `option "taskTimeout" ${timeoutRule} number (-5)`],
    [{ taskTimeout: 0 }, `option "taskTimeout" ${timeoutRule} number (0)`],
    [{ taskTimeout: '1m' }, `option "taskTimeout" ${timeoutRule} a string ("1m")`],
    [{ concurrency: 'many' }, 'option "concurrency" must be a positive integer or Infinity, got a string ("many")'],
    [{ concurrency: 0 }, 'option "concurrency" must be a positive integer or Infinity, got number (0)'],
    [{ concurrency: 2.5 }, 'option "concurrency" must be a positive integer or Infinity, got number (2.5)'],
    [{ maxQueued: -1 }, 'option "maxQueued" must be a positive integer or Infinity, got number (-1)'],
    [{ overflow: 'drop' }, `option "overflow" must be one of 'reject', 'drop-newest', 'drop-oldest'; got a string ("drop")`],
    [{ mode: 'sync' }, `option "mode" must be one of 'background', 'inline', 'disabled'; got a string ("sync")`],
    [{ onTaskFailed: 'log' }, 'option "onTaskFailed" must be a function, got a string ("log")'],
    [{ onTaskDropped: {} }, 'option "onTaskDropped" must be a function, got an object (Object)'],
  ])('rejects bad options at startup: %p', async (options, message) => {
    const moduleRef = Test.createTestingModule({
      imports: [BackgroundTasksModule.forRoot(options as never)],
    });
    await expect(moduleRef.compile()).rejects.toThrow(`BackgroundTasksModule: ${message}.`);
  });
});
