import { jest } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTasksModuleOptions } from '../../../lib/interfaces/index.js';
import { batchDone, fail, ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { flush, watchProcess } from '../../utils/process-watch.js';
import { idle, stats } from '../../utils/task-record.js';
import { aborted, eventsOf, expectSaneDurations, recordHooks } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, waitFor } from '../../utils/wait-for.js';

/**
 * What the logger and the lifecycle hooks are told (TaskReporter), as the
 * runner reports tasks that fail, time out or end otherwise, with the owner
 * of the tasks a RequestBackgroundTasks with a fixed origin.
 */

type OnTaskFailed = NonNullable<BackgroundTasksModuleOptions['onTaskFailed']>;

/** The calls of an onTaskFailed mock, as [error, the rest of the event]; checks that each has a duration. */
function failures(hook: jest.Mock<OnTaskFailed>): unknown[][] {
  return hook.mock.calls.map(([{ error, duration, ...event }]) => {
    expect(duration).toEqual(expect.any(Number));
    return [error, event];
  });
}

const watched = watchEachTest();

describe('failures', () => {
  it('keeps going after a throwing task and a rejecting task', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const events: string[] = [];
    tasks.addTask(function throwsSync() {
      events.push('throws');
      throw new Error('sync boom');
    });
    tasks.addTask(async function rejects() {
      events.push('rejects');
      await flush(1);
      throw new Error('async boom');
    });
    tasks.addTask(function rejectsThenable() {
      events.push('rejects thenable');
      return { then: (_: unknown, onRejected: (reason: unknown) => void) => onRejected(new Error('thenable boom')) };
    });
    tasks.addTask((what: string) => void events.push(what), 'after');

    succeed(tasks);
    await waitFor('the task after the failures', () => events.includes('after'));
    await batchDone(tasks);
    await flush();
    expect(events).toEqual(['throws', 'rejects', 'rejects thenable', 'after']);
    expect(watched.error).toHaveBeenCalledTimes(3);
  });

  it('logs each failure with the task name and the request, and passes it to onTaskFailed', async () => {
    const onTaskFailed = jest.fn<OnTaskFailed>();
    const runner = new TaskRunner({ onTaskFailed });
    const tasks = ownedTasks(runner, 'PATCH', '/orders/42');
    const syncError = new Error('sync boom');
    const asyncError = new Error('async boom');
    const ran: string[] = [];
    tasks.addTask(
      function sendReceipt(email: string, copies: number) {
        throw syncError;
      },
      'a@b.c',
      2,
    );
    tasks.addTask(
      async function chargeCard(order: { id: number }) {
        await flush(1);
        throw asyncError;
      },
      { id: 42 },
    );
    tasks.addTask(() => void ran.push('after'));

    succeed(tasks);
    await waitFor('onTaskFailed to be called twice', () => onTaskFailed.mock.calls.length === 2);
    await batchDone(tasks);
    await flush();

    expect(ran).toEqual(['after']);
    expect(watched.error).toHaveBeenCalledTimes(2);
    const [first, second] = watched.error.mock.calls;
    expect(first[0]).toEqual(expect.stringContaining('"sendReceipt"'));
    expect(first[0]).toEqual(expect.stringContaining('PATCH /orders/42'));
    expect(first[0]).toEqual(expect.stringContaining('sync boom'));
    expect(first[1]).toBe(syncError.stack);
    expect(second[0]).toEqual(expect.stringContaining('"chargeCard"'));
    expect(second[0]).toEqual(expect.stringContaining('PATCH /orders/42'));
    expect(second[0]).toEqual(expect.stringContaining('async boom'));
    expect(second[1]).toBe(asyncError.stack);
    // Logged under the module's context.
    expect(watched.error.mock.contexts.map((logger) => (logger as { context?: string }).context)).toEqual([
      'BackgroundTasks',
      'BackgroundTasks',
    ]);

    expect(failures(onTaskFailed)).toEqual([
      [syncError, { name: 'sendReceipt', args: ['a@b.c', 2], transport: 'http', method: 'PATCH', path: '/orders/42' }],
      [asyncError, { name: 'chargeCard', args: [{ id: 42 }], transport: 'http', method: 'PATCH', path: '/orders/42' }],
    ]);
    expect(onTaskFailed.mock.calls[0][0].error).toBe(syncError);
    expect(onTaskFailed.mock.calls[1][0].error).toBe(asyncError);
    // Logged first, then handed to the hook.
    expect(watched.error.mock.invocationCallOrder[0]).toBeLessThan(onTaskFailed.mock.invocationCallOrder[0]);
    expect(watched.error.mock.invocationCallOrder[1]).toBeLessThan(onTaskFailed.mock.invocationCallOrder[1]);
  });

  it('reports a thrown string, and other values that are not Errors', async () => {
    const onTaskFailed = jest.fn<OnTaskFailed>();
    const runner = new TaskRunner({ onTaskFailed });
    const tasks = ownedTasks(runner, 'DELETE', '/users/1');
    tasks.addTask(function throwsString() {
      throw 'plain string failure';
    });
    tasks.addTask(async function rejectsNumber() {
      throw 42;
    });
    tasks.addTask(function throwsUndefined() {
      throw undefined;
    });

    succeed(tasks);
    await waitFor('onTaskFailed to be called three times', () => onTaskFailed.mock.calls.length === 3);
    await batchDone(tasks);
    await flush();

    expect(watched.errorMessages()).toEqual([
      expect.stringContaining('plain string failure'),
      expect.stringContaining('42'),
      expect.stringContaining('undefined'),
    ]);
    expect(watched.errorMessages()).toEqual([
      expect.stringContaining('"throwsString" of DELETE /users/1'),
      expect.stringContaining('"rejectsNumber" of DELETE /users/1'),
      expect.stringContaining('"throwsUndefined" of DELETE /users/1'),
    ]);
    expect(watched.error.mock.calls.map((call) => call[1])).toEqual([undefined, undefined, undefined]);
    expect(failures(onTaskFailed)).toEqual([
      ['plain string failure', { name: 'throwsString', args: [], transport: 'http', method: 'DELETE', path: '/users/1' }],
      [42, { name: 'rejectsNumber', args: [], transport: 'http', method: 'DELETE', path: '/users/1' }],
      [undefined, { name: 'throwsUndefined', args: [], transport: 'http', method: 'DELETE', path: '/users/1' }],
    ]);
  });

  it('names anonymous tasks "anonymous"', async () => {
    const onTaskFailed = jest.fn<OnTaskFailed>();
    const runner = new TaskRunner({ onTaskFailed });
    const tasks = ownedTasks(runner, 'POST', '/anon');
    tasks.addTask(() => {
      throw new Error('arrow');
    });
    tasks.addTask(function () {
      throw new Error('function expression');
    });
    tasks.addTask(async () => {
      throw new Error('async arrow');
    });

    succeed(tasks);
    await waitFor('three failures', () => onTaskFailed.mock.calls.length === 3);
    await batchDone(tasks);
    await flush();

    expect(onTaskFailed.mock.calls.map(([event]) => event.name)).toEqual(['anonymous', 'anonymous', 'anonymous']);
    expect(watched.errorMessages()).toEqual([
      expect.stringContaining('"anonymous" of POST /anon failed: arrow'),
      expect.stringContaining('"anonymous" of POST /anon failed: function expression'),
      expect.stringContaining('"anonymous" of POST /anon failed: async arrow'),
    ]);
  });

  it('logs an onTaskFailed that throws, and carries on', async () => {
    const hookError = new Error('hook exploded');
    const onTaskFailed = jest.fn<OnTaskFailed>(() => {
      throw hookError;
    });
    const runner = new TaskRunner({ onTaskFailed });
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    tasks.addTask(function failing() {
      throw new Error('task failed');
    });
    tasks.addTask(() => void ran.push('after'));

    succeed(tasks);
    await waitFor('the task after the failure', () => ran.length === 1);
    await batchDone(tasks);
    await flush();

    expect(onTaskFailed).toHaveBeenCalledTimes(1);
    expect(watched.errorMessages()).toEqual([
      expect.stringContaining('"failing" of POST /orders/42 failed: task failed'),
      expect.stringContaining('onTaskFailed threw: hook exploded'),
    ]);
    expect(watched.error.mock.calls[1][1]).toBe(hookError.stack);
    expect(watched.process.unhandledRejections).toEqual([]);
    expect(watched.process.uncaughtExceptions).toEqual([]);
  });

  it('logs an onTaskFailed that rejects, without an unhandled rejection', async () => {
    const local = watchProcess();
    try {
      const onTaskFailed = jest.fn<OnTaskFailed>(async ({ error }) => {
        await flush(1);
        throw new Error(`hook rejected for ${String((error as Error).message)}`);
      });
      const runner = new TaskRunner({ onTaskFailed });
      const tasks = ownedTasks(runner);
      const ran: string[] = [];
      tasks.addTask(function failing() {
        throw new Error('task failed');
      });
      tasks.addTask(() => void ran.push('after'));

      succeed(tasks);
      await waitFor('the hook’s rejection to be logged', () => watched.error.mock.calls.length === 2);
      await batchDone(tasks);
      await flush();

      expect(ran).toEqual(['after']);
      expect(onTaskFailed).toHaveBeenCalledTimes(1);
      expect(watched.errorMessages()).toEqual([
        expect.stringContaining('"failing" of POST /orders/42 failed: task failed'),
        expect.stringContaining('onTaskFailed threw: hook rejected for task failed'),
      ]);
      expect(local.unhandledRejections).toEqual([]);
      expect(local.uncaughtExceptions).toEqual([]);
    } finally {
      local.stop();
    }
  });

  it('logs an onTaskFailed that rejects with a non-Error, or returns a rejecting thenable', async () => {
    const local = watchProcess();
    try {
      let call = 0;
      const onTaskFailed = jest.fn<OnTaskFailed>(() => {
        call++;
        if (call === 1) return Promise.reject('hook string');
        return {
          then: (_: unknown, onRejected: (reason: unknown) => void) => onRejected(new Error('hook thenable')),
        } as unknown as Promise<void>;
      });
      const runner = new TaskRunner({ onTaskFailed });
      const tasks = ownedTasks(runner);
      tasks.addTask(function one() {
        throw new Error('one failed');
      });
      tasks.addTask(function two() {
        throw new Error('two failed');
      });

      succeed(tasks);
      await waitFor('four errors to be logged', () => watched.error.mock.calls.length === 4);
      await batchDone(tasks);
      await flush();

      expect(watched.errorMessages()).toEqual(
        expect.arrayContaining([
          expect.stringContaining('onTaskFailed threw: hook string'),
          expect.stringContaining('onTaskFailed threw: hook thenable'),
        ]),
      );
      expect(watched.error).toHaveBeenCalledTimes(4);
      expect(local.unhandledRejections).toEqual([]);
      expect(local.uncaughtExceptions).toEqual([]);
    } finally {
      local.stop();
    }
  });

  it('keeps going after a task throws a value that cannot be turned into a string', async () => {
    // A null-prototype object has no toString(): String(value) throws.
    const onTaskFailed = jest.fn<OnTaskFailed>();
    const runner = new TaskRunner({ onTaskFailed });
    const tasks = ownedTasks(runner, 'POST', '/dictionary');
    const thrown = Object.create(null) as object;
    const ran: string[] = [];
    tasks.addTask(function throwsBareObject() {
      throw thrown;
    });
    tasks.addTask(() => void ran.push('after'));

    succeed(tasks);
    await waitFor('the task after the failure', () => ran.length === 1, 2000).catch(() => undefined);
    await flush();

    expect(ran).toEqual(['after']);
    expect(runner.stats().queued).toBe(0);
    expect(watched.error).toHaveBeenCalledTimes(1);
    expect(watched.errorMessages()[0]).toEqual(expect.stringContaining('"throwsBareObject" of POST /dictionary'));
    expect(failures(onTaskFailed)).toEqual([
      [thrown, { name: 'throwsBareObject', args: [], transport: 'http', method: 'POST', path: '/dictionary' }],
    ]);
  });
  it('does not cause an unhandled rejection when onTaskFailed rejects with a value that cannot be turned into a string', async () => {
    const local = watchProcess();
    try {
      const hookFailure = Object.create(null) as object;
      const onTaskFailed = jest.fn<OnTaskFailed>(async () => {
        throw hookFailure;
      });
      const runner = new TaskRunner({ onTaskFailed });
      const tasks = ownedTasks(runner, 'POST', '/dictionary');
      tasks.addTask(function failing() {
        throw new Error('task failed');
      });

      succeed(tasks);
      await waitFor('onTaskFailed to be called', () => onTaskFailed.mock.calls.length === 1);
      await batchDone(tasks);
      await flush();

      expect(local.unhandledRejections).toEqual([]);
      expect(watched.errorMessages()).toEqual([
        expect.stringContaining('"failing" of POST /dictionary failed: task failed'),
        expect.stringContaining('onTaskFailed threw'),
      ]);
    } finally {
      local.stop();
    }
  });
});

describe('hooks and stats', () => {
  /**
   * One task for each way a task can end: succeeded, failed, timed out,
   * cancelled, and dropped (by a request that a guard denied).
   */
  async function runOneOfEachOutcome(runner: TaskRunner): Promise<{ failure: Error }> {
    const failure = new Error('card declined');
    const order = ownedTasks(runner, 'POST', '/orders/42');
    // Named after the function, for want of a name option.
    order.addTaskWithOptions({}, function sendReceipt(_context, email: string) {}, 'a@b.c');
    order.addTask(function chargeCard(id: number) {
      throw failure;
    }, 42);
    order.addTaskWithOptions({ timeout: 20 }, ({ signal }, ms: number) => aborted(signal), 5);
    // The name option wins over the function's name.
    order.addTaskWithOptions({ name: 'reminder' }, function remind(_context, when: string) {}, 'tomorrow');
    expect(order.cancel('reminder')).toBe(true);
    const denied = ownedTasks(runner, 'GET', '/admin');
    denied.addTask(function audit(user: string) {}, 'eve');
    fail(denied);
    succeed(order);
    await idle(runner);
    return { failure };
  }

  it('calls the hooks in order, with full events, for tasks that succeed, fail, time out, are cancelled and dropped; stats() counts them', async () => {
    const { hooks, calls } = recordHooks();
    const runner = new TaskRunner(hooks);
    const { failure } = await runOneOfEachOutcome(runner);

    const order = eventsOf('POST', '/orders/42');
    const admin = eventsOf('GET', '/admin');
    const duration = expect.any(Number);
    expect(calls).toStrictEqual([
      ['onTaskQueued', order('sendReceipt', ['a@b.c'])],
      ['onTaskQueued', order('chargeCard', [42])],
      ['onTaskQueued', order('anonymous', [5])],
      ['onTaskQueued', order('reminder', ['tomorrow'])],
      ['onTaskCancelled', order('reminder', ['tomorrow'], { reason: 'cancelled' })],
      ['onTaskQueued', admin('audit', ['eve'])],
      ['onTaskDropped', admin('audit', ['eve'], { reason: 'request-failed' })],
      ['onTaskStarted', order('sendReceipt', ['a@b.c'])],
      ['onTaskSucceeded', order('sendReceipt', ['a@b.c'], { duration })],
      ['onTaskStarted', order('chargeCard', [42])],
      ['onTaskFailed', order('chargeCard', [42], { duration, error: failure })],
      ['onTaskStarted', order('anonymous', [5])],
      ['onTaskTimedOut', order('anonymous', [5], { duration, error: expect.any(DOMException) })],
    ]);
    expect(calls[10][1].error).toBe(failure);
    expect((calls[12][1].error as DOMException).name).toBe('TimeoutError');
    expectSaneDurations(calls);

    // Every accepted task ended exactly one way.
    const counts = runner.stats();
    expect(counts).toEqual(stats({ succeeded: 1, failed: 1, timedOut: 1, dropped: 1, cancelled: 1 }));
    const accepted = calls.filter(([hook]) => hook === 'onTaskQueued').length;
    expect(counts.succeeded + counts.failed + counts.timedOut + counts.dropped + counts.cancelled).toBe(accepted);
    expect(watched.errorMessages()).toEqual([
      'Background task "chargeCard" of POST /orders/42 failed: card declined',
      'Background task "anonymous" of POST /orders/42 timed out after 20 ms.',
    ]);
  });

  it.each(['throws', 'rejects'] as const)(
    'logs a hook that %s as "<hook> threw: …", once per call, without an unhandled rejection, and carries on',
    async (fails) => {
      const { hooks, calls } = recordHooks(fails);
      const runner = new TaskRunner(hooks);
      await runOneOfEachOutcome(runner);
      // 5 queued, 3 started and one call of each of the five other hooks.
      await waitFor('every hook failure to be logged', () => watched.error.mock.calls.length === 2 + 13);
      await flush();
      expect(calls).toHaveLength(13);

      const hookFailures = watched.errorMessages().filter((message) => / threw: /.test(message));
      expect(hookFailures.sort()).toEqual(calls.map(([hook]) => `${hook} threw: ${hook} broke`).sort());
      expect(watched.error).toHaveBeenCalledTimes(15);
      expect(runner.stats()).toEqual(stats({ succeeded: 1, failed: 1, timedOut: 1, dropped: 1, cancelled: 1 }));
    },
  );

  it('reports as duration how long the task ran, not how long the process has run', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner);
    const gate = deferred();
    tasks.addTask(async function measured() {
      await gate.promise;
    });
    tasks.addTask(function fails() {
      throw new Error('boom');
    });
    tasks.addTaskWithOptions({ name: 'overruns', timeout: 10 }, ({ signal }) => aborted(signal));
    // Every task starts and ends in this window, on the runner's clock.
    const windowStart = performance.now();
    succeed(tasks);
    await flush();
    gate.resolve();
    await idle(runner);
    const window = performance.now() - windowStart;

    const events = [...of('onTaskSucceeded'), ...of('onTaskFailed'), ...of('onTaskTimedOut')];
    expect(events.map(({ name }) => name)).toEqual(['measured', 'fails', 'overruns']);
    for (const { duration } of events) {
      expect(duration).toBeGreaterThanOrEqual(0);
      // Measured from the task's start: the process itself has run longer than this window.
      expect(duration).toBeLessThanOrEqual(window);
    }
    expect(windowStart).toBeGreaterThan(window);
  });
});

describe('overflow in the log', () => {
  it('logs the first drop of a burst, then one summary a second, while onTaskDropped hears of each', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const onTaskDropped = jest.fn<NonNullable<BackgroundTasksModuleOptions['onTaskDropped']>>();
      const runner = new TaskRunner({ maxQueued: 1, overflow: 'drop-newest', onTaskDropped });
      const tasks = ownedTasks(runner, 'POST', '/burst');
      const burst = (count: number) => {
        for (let i = 0; i < count; i++) tasks.addTask(function burstTask() {});
      };
      burst(6); // the first is queued, five are dropped
      expect(onTaskDropped).toHaveBeenCalledTimes(5);
      expect(watched.warnMessages()).toEqual([
        'Background task "burstTask" of POST /burst was dropped: maxQueued (1) tasks are already waiting.',
      ]);

      jest.advanceTimersByTime(1_000);
      burst(2);
      jest.advanceTimersByTime(1_000);
      expect(watched.warnMessages().slice(1)).toEqual([
        '4 more background tasks were dropped in the last second: maxQueued (1) tasks are already waiting.',
        '2 more background tasks were dropped in the last second: maxQueued (1) tasks are already waiting.',
      ]);

      // A quiet second ends the burst: the next drop is logged in full again.
      jest.advanceTimersByTime(1_000);
      burst(1);
      expect(watched.warnMessages()).toHaveLength(4);
      expect(watched.warnMessages()[3]).toMatch(/^Background task "burstTask" of POST \/burst was dropped/);
      expect(onTaskDropped).toHaveBeenCalledTimes(8);
    } finally {
      jest.useRealTimers();
    }
  });
});
