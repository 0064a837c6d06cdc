import { jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  AppBackgroundTasks,
  BackgroundTasksMonitor,
  BackgroundTasksOverflowException,
  type BackgroundTaskEvent,
  type BackgroundTaskHook,
} from '../lib/index.js';
import { appTasksModule, caller, journal } from './fixtures/app-tasks.app.js';
import { deferred, waitFor, within } from './utils/wait-for.js';

/** An application context, as a CLI command or a worker would create it: no HTTP server. */
async function start(options = {}): Promise<INestApplicationContext> {
  // The cron job is disabled: the test that wants it starts it.
  return NestFactory.createApplicationContext(appTasksModule(options), { logger: false });
}

describe('AppBackgroundTasks: tasks outside a request', () => {
  let app: INestApplicationContext;
  const onTaskSucceeded = jest.fn<BackgroundTaskHook>();

  beforeEach(() => {
    journal.length = 0;
    onTaskSucceeded.mockClear();
  });

  afterEach(() => app?.close());

  it('runs a task added in onApplicationBootstrap, in its caller’s async context, with transport "none"', async () => {
    app = await start({ onTaskSucceeded });
    await within('the bootstrap task', app.get(BackgroundTasksMonitor).whenIdle());
    expect(journal).toEqual(['warm-cache:bootstrap']);
    expect(onTaskSucceeded.mock.calls.map(([event]) => withoutDuration(event))).toEqual([
      { name: 'record', args: ['warm-cache'], transport: 'none', method: '', path: '' },
    ]);
    expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ queued: 0, running: 0, succeeded: 1 });
  });

  it('runs the tasks of a @Cron() job of @nestjs/schedule', async () => {
    app = await start();
    await within('the bootstrap task', app.get(BackgroundTasksMonitor).whenIdle());
    app.get(SchedulerRegistry).getCronJob('tick').start();
    await waitFor('a tick of the cron job to run its task', () => journal.includes('tick:cron'), 5_000);
    await app.get(SchedulerRegistry).getCronJob('tick').stop();
  });

  it('runs the tasks of an @OnEvent() listener of @nestjs/event-emitter, in the context that emitted the event', async () => {
    app = await start();
    caller.run('signup', () => app.get(EventEmitter2).emit('user.created', 'ada@example.com'));
    await within('the listener’s task', app.get(BackgroundTasksMonitor).whenIdle());
    expect(journal).toEqual(['warm-cache:bootstrap', 'welcome ada@example.com:signup']);
  });

  it('never blocks its caller, even with a sync task and a free slot: addTask returns before the task starts', async () => {
    app = await start();
    await within('the bootstrap task', app.get(BackgroundTasksMonitor).whenIdle());
    const tasks = app.get(AppBackgroundTasks);
    let started = false;
    tasks.addTask(() => {
      started = true;
    });
    expect(started).toBe(false);
    expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({ queued: 1 });
    await within('the task', app.get(BackgroundTasksMonitor).whenIdle());
    expect(started).toBe(true);
  });

  it('obeys concurrency, and a name replaces a queued task of the same name', async () => {
    const events: BackgroundTaskEvent[] = [];
    app = await start({ concurrency: 1, onTaskCancelled: (event: BackgroundTaskEvent) => void events.push(event) });
    const tasks = app.get(AppBackgroundTasks);
    const runner = app.get(BackgroundTasksMonitor);
    await within('the bootstrap task', runner.whenIdle());
    const gate = deferred();
    tasks.addTask(async function holdsTheSlot() {
      await gate.promise;
    });
    await waitFor('the first task to start', () => runner.stats().running === 1);
    const ran: string[] = [];
    // A job that fires twice before its task could start queues the work once.
    tasks.addTaskWithOptions({ name: 'sync' }, () => void ran.push('first'));
    tasks.addTaskWithOptions({ name: 'sync' }, () => void ran.push('second'));
    expect(runner.stats()).toMatchObject({ running: 1, queued: 1, cancelled: 1 });
    expect(events.map(({ name, reason, transport }) => ({ name, reason, transport }))).toEqual([
      { name: 'sync', reason: 'replaced', transport: 'none' },
    ]);
    gate.resolve();
    await within('the tasks', runner.whenIdle());
    expect(ran).toEqual(['second']);
    expect(tasks.cancel('sync')).toBe(false);
  });

  it("obeys maxQueued and overflow: 'reject' throws at addTask", async () => {
    app = await start({ concurrency: 1, maxQueued: 1 });
    const tasks = app.get(AppBackgroundTasks);
    await within('the bootstrap task', app.get(BackgroundTasksMonitor).whenIdle());
    const gate = deferred();
    tasks.addTask(async () => gate.promise);
    await waitFor('the first task to start', () => app.get(BackgroundTasksMonitor).stats().running === 1);
    tasks.addTask(() => undefined);
    expect(() => tasks.addTask(function third() {})).toThrow(BackgroundTasksOverflowException);
    gate.resolve();
  });

  it('is drained by app.close()', async () => {
    app = await start({ shutdownTimeout: 5_000 });
    const tasks = app.get(AppBackgroundTasks);
    const gate = deferred();
    let done = false;
    tasks.addTask(async () => {
      await gate.promise;
      done = true;
    });
    const closing = app.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    gate.resolve();
    await within('close()', closing);
    expect(done).toBe(true);
  });
});

function withoutDuration({ duration, ...event }: BackgroundTaskEvent): Omit<BackgroundTaskEvent, 'duration'> {
  expect(duration).toEqual(expect.any(Number));
  return event;
}
