import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DEFAULT_SHUTDOWN_TIMEOUT } from '../../lib/background-tasks.constants.js';
import { resolveOptions } from '../../lib/core/runner-options.js';
import type { HttpBackgroundTasks as BackgroundTasks } from '../../lib/http/http-background-tasks.js';
import type { BackgroundTasksModuleOptions } from '../../lib/interfaces/index.js';
import { requestTasksOf as getRequestTasks } from '../../lib/request-scope/background-tasks.provider.js';
import { TaskRunner as BackgroundTaskRunner } from '../../lib/core/task-runner.js';
import { requestTasks, respond } from '../utils/request-tasks.js';
import { flush, watchProcess } from '../utils/process-watch.js';
import { watchEachTest } from '../utils/unit-watch.js';
import { deferred, track, waitFor } from '../utils/wait-for.js';

/**
 * Unit tests of the runner used directly, without Nest or HTTP: the runner is
 * handed a request's BackgroundTasks the way the module does once the
 * response is done.
 */

type OnTaskFailed = NonNullable<BackgroundTasksModuleOptions['onTaskFailed']>;

/** The calls of an onTaskFailed mock, as [error, the rest of the event]; checks that each has a duration. */
function failures(hook: jest.Mock<OnTaskFailed>): unknown[][] {
  return hook.mock.calls.map(([{ error, duration, ...event }]) => {
    expect(duration).toEqual(expect.any(Number));
    return [error, event];
  });
}

/** Waits until `tasks` has nothing running and nothing queued. */
function idle(tasks: BackgroundTasks, what = 'the tasks to finish'): Promise<true> {
  return waitFor(what, () => !tasks.batch.draining && tasks.batch.unfinished === 0);
}

const watched = watchEachTest();

describe('the process watch used by these tests', () => {
  it('sees an unhandled rejection (so that an empty watch means something)', async () => {
    const local = watchProcess();
    try {
      const error = new Error('deliberately unhandled for a moment');
      const rejected = Promise.reject(error);
      await waitFor('the watch to see the rejection', () => local.unhandledRejections.length === 1);
      expect(local.unhandledRejections).toEqual([error]);
      // Handle it now, so that neither Jest nor the shared watch counts it.
      rejected.catch(() => undefined);
      await flush();
    } finally {
      local.stop();
    }
    watched.process.unhandledRejections.length = 0;
  });
});

describe('BackgroundTaskRunner running BackgroundTasks', () => {
  describe('order', () => {
    it('runs the tasks of one BackgroundTasks once each, in order, with their args', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const calls: unknown[][] = [];
      const payload = { id: 7 };
      tasks.addTask((email: string, message: string) => void calls.push(['notify', email, message]), 'a@b.c', 'hi');
      tasks.addTask((...numbers: number[]) => void calls.push(['sum', ...numbers]), 1, 2, 3);
      tasks.addTask((object: { id: number }) => void calls.push(['object', object]), payload);
      tasks.addTask(() => void calls.push(['no args']));

      await flush();
      expect(calls).toEqual([]); // nothing runs before the runner is handed the tasks

      respond(tasks);
      await waitFor('four tasks to run', () => calls.length === 4);
      await idle(tasks);
      await flush();

      expect(calls).toEqual([['notify', 'a@b.c', 'hi'], ['sum', 1, 2, 3], ['object', payload], ['no args']]);
      expect(calls[2][1]).toBe(payload); // the very object, not a copy
      expect(watched.error).not.toHaveBeenCalled();
    });

    it('awaits each async task before the next one starts', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const first = deferred();
      const second = deferred();
      const events: string[] = [];
      tasks.addTask(async () => {
        events.push('first:start');
        await first.promise;
        events.push('first:end');
      });
      tasks.addTask(async () => {
        events.push('second:start');
        await second.promise;
        events.push('second:end');
      });
      tasks.addTask(() => void events.push('third'));

      respond(tasks);
      await waitFor('the first task to start', () => events.includes('first:start'));
      await flush(); // every chance to move on too early
      expect(events).toEqual(['first:start']);
      expect(tasks.batch.draining).toBe(true);

      first.resolve();
      await waitFor('the second task to start', () => events.includes('second:start'));
      await flush();
      expect(events).toEqual(['first:start', 'first:end', 'second:start']);

      second.resolve();
      await waitFor('the third task to run', () => events.includes('third'));
      await idle(tasks);
      expect(events).toEqual(['first:start', 'first:end', 'second:start', 'second:end', 'third']);
    });

    it('runs sync and async tasks mixed, in order', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const events: string[] = [];
      const later = () => new Promise<void>((resolve) => setImmediate(resolve));
      tasks.addTask((name: string) => void events.push(name), 'sync 1');
      tasks.addTask(async (name: string) => {
        events.push(`${name}:start`);
        await later();
        await later();
        events.push(`${name}:end`);
      }, 'async 1');
      tasks.addTask((name: string) => void events.push(name), 'sync 2');
      tasks.addTask(async (name: string) => {
        events.push(`${name}:start`);
        await later();
        events.push(`${name}:end`);
      }, 'async 2');
      tasks.addTask((name: string) => void events.push(name), 'sync 3');

      respond(tasks);
      await waitFor('all tasks to run', () => events.length === 7);
      await idle(tasks);
      await flush();
      expect(events).toEqual([
        'sync 1',
        'async 1:start',
        'async 1:end',
        'sync 2',
        'async 2:start',
        'async 2:end',
        'sync 3',
      ]);
    });

    it('runs a task added by a running task, after the ones already queued', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const events: string[] = [];
      tasks.addTask(() => {
        events.push('first');
        tasks.addTask((what: string) => void events.push(what), 'added by first');
      });
      tasks.addTask(async () => {
        events.push('second:start');
        await flush(1);
        tasks.addTask(async (what: string) => {
          await flush(1);
          events.push(what);
        }, 'added by second');
        events.push('second:end');
      });
      tasks.addTask(() => void events.push('third'));

      respond(tasks);
      await waitFor('six events', () => events.length === 6);
      await idle(tasks);
      await flush();
      expect(events).toEqual(['first', 'second:start', 'second:end', 'third', 'added by first', 'added by second']);
    });

    it('starts a new run for a task added after the run has finished', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const events: string[] = [];
      tasks.addTask(async () => {
        await flush(1);
        events.push('first');
      });
      respond(tasks);
      await waitFor('the first task to run', () => events.length === 1);
      await idle(tasks);
      await flush();

      tasks.addTask(async (what: string) => {
        await flush(1);
        events.push(what);
      }, 'later');
      await waitFor('the later task to run', () => events.length === 2);
      tasks.addTask((what: string) => void events.push(what), 'even later');
      await waitFor('the even later task to run', () => events.length === 3);
      await idle(tasks);
      await flush();
      expect(events).toEqual(['first', 'later', 'even later']);
    });

    it('runs tasks added after run() was handed an empty BackgroundTasks', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const events: string[] = [];
      respond(tasks);
      expect(tasks.batch.draining).toBe(false);
      tasks.addTask((what: string) => void events.push(what), 'late');
      await waitFor('the late task to run', () => events.length === 1);
      await idle(tasks);
      await flush();
      expect(events).toEqual(['late']);
    });

    it('runs two BackgroundTasks independently: a slow task of one does not hold up the other', async () => {
      const runner = new BackgroundTaskRunner();
      const slowRequest = requestTasks(runner, 'POST', '/slow');
      const fastRequest = requestTasks(runner, 'POST', '/fast');
      const gate = deferred();
      const events: string[] = [];
      slowRequest.addTask(async () => {
        events.push('slow:start');
        await gate.promise;
        events.push('slow:end');
      });
      slowRequest.addTask(() => void events.push('slow:next'));
      fastRequest.addTask(() => void events.push('fast:1'));
      fastRequest.addTask(async () => {
        await flush(1);
        events.push('fast:2');
      });

      respond(slowRequest);
      await waitFor('the slow task to start', () => events.includes('slow:start'));
      respond(fastRequest);
      await waitFor('the other request’s tasks to run', () => events.includes('fast:2'));
      await idle(fastRequest);
      await flush();
      expect(events).toEqual(['slow:start', 'fast:1', 'fast:2']);
      expect(slowRequest.batch.draining).toBe(true);

      gate.resolve();
      await idle(slowRequest);
      await flush();
      expect(events).toEqual(['slow:start', 'fast:1', 'fast:2', 'slow:end', 'slow:next']);
    });

    it('does not run tasks twice when run() is called twice on the same object', async () => {
      const runner = new BackgroundTaskRunner();
      const events: string[] = [];

      // While the first run is still going.
      const busy = requestTasks(runner);
      const gate = deferred();
      busy.addTask(async () => {
        events.push('busy:slow');
        await gate.promise;
      });
      busy.addTask(() => void events.push('busy:next'));
      respond(busy);
      respond(busy);
      await waitFor('the slow task to start', () => events.includes('busy:slow'));
      respond(busy);
      gate.resolve();
      await waitFor('the next task to run', () => events.includes('busy:next'));
      respond(busy);
      await idle(busy);
      respond(busy);

      // With only sync tasks, the first run() has finished by the time it returns.
      const quick = requestTasks(runner);
      quick.addTask(() => void events.push('quick:1'));
      quick.addTask(() => void events.push('quick:2'));
      respond(quick);
      respond(quick);
      await idle(quick);
      respond(quick);

      await flush();
      expect(events).toEqual(['busy:slow', 'busy:next', 'quick:1', 'quick:2']);
    });
  });

  describe('return values', () => {
    it('ignores what tasks return, other than awaiting promises and thenables', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const events: string[] = [];
      const values: unknown[] = [42, 'a string', false, 0, null, undefined, { then: 'not a function' }, [1, 2], () => 'fn'];
      for (const value of values) tasks.addTask(() => value);
      tasks.addTask(() => void events.push('after plain values'));
      tasks.addTask(async () => 'resolved value');
      tasks.addTask(() => void events.push('after a promise'));

      respond(tasks);
      await waitFor('the tasks after the returned values', () => events.length === 2);
      await idle(tasks);
      await flush();
      expect(events).toEqual(['after plain values', 'after a promise']);
      expect(watched.error).not.toHaveBeenCalled();
    });

    it('awaits a returned thenable that is not a promise, and ignores its value', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const gate = deferred();
      const events: string[] = [];
      let thenCalls = 0;
      const thenable = {
        then(onFulfilled: (value: unknown) => void) {
          thenCalls++;
          void gate.promise.then(() => {
            events.push('thenable:fulfilled');
            onFulfilled('ignored value');
          });
        },
      };
      tasks.addTask(() => thenable);
      tasks.addTask(() => void events.push('next'));

      respond(tasks);
      await waitFor('the runner to subscribe to the thenable', () => thenCalls === 1);
      await flush();
      expect(events).toEqual([]); // the next task waits for the thenable

      gate.resolve();
      await waitFor('the next task to run', () => events.includes('next'));
      await idle(tasks);
      await flush();
      expect(events).toEqual(['thenable:fulfilled', 'next']);
      expect(thenCalls).toBe(1);
      expect(watched.error).not.toHaveBeenCalled();
    });
  });

  describe('failures', () => {
    it('keeps going after a throwing task and a rejecting task', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
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

      respond(tasks);
      await waitFor('the task after the failures', () => events.includes('after'));
      await idle(tasks);
      await flush();
      expect(events).toEqual(['throws', 'rejects', 'rejects thenable', 'after']);
      expect(watched.error).toHaveBeenCalledTimes(3);
    });

    it('logs each failure with the task name and the request, and passes it to onTaskFailed', async () => {
      const onTaskFailed = jest.fn<OnTaskFailed>();
      const runner = new BackgroundTaskRunner({ onTaskFailed });
      const tasks = requestTasks(runner, 'PATCH', '/orders/42');
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
      tasks.addTask(async function chargeCard(order: { id: number }) {
        await flush(1);
        throw asyncError;
      }, { id: 42 });
      tasks.addTask(() => void ran.push('after'));

      respond(tasks);
      await waitFor('onTaskFailed to be called twice', () => onTaskFailed.mock.calls.length === 2);
      await idle(tasks);
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
      expect(watched.error.mock.contexts.map((logger) => (logger as unknown as { context?: string }).context)).toEqual([
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
      const runner = new BackgroundTaskRunner({ onTaskFailed });
      const tasks = requestTasks(runner, 'DELETE', '/users/1');
      tasks.addTask(function throwsString() {
        throw 'plain string failure';
      });
      tasks.addTask(async function rejectsNumber() {
        throw 42;
      });
      tasks.addTask(function throwsUndefined() {
        throw undefined;
      });

      respond(tasks);
      await waitFor('onTaskFailed to be called three times', () => onTaskFailed.mock.calls.length === 3);
      await idle(tasks);
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
      const runner = new BackgroundTaskRunner({ onTaskFailed });
      const tasks = requestTasks(runner, 'POST', '/anon');
      tasks.addTask(() => {
        throw new Error('arrow');
      });
      tasks.addTask(
        function () {
          throw new Error('function expression');
        },
      );
      tasks.addTask(async () => {
        throw new Error('async arrow');
      });

      respond(tasks);
      await waitFor('three failures', () => onTaskFailed.mock.calls.length === 3);
      await idle(tasks);
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
      const runner = new BackgroundTaskRunner({ onTaskFailed });
      const tasks = requestTasks(runner);
      const ran: string[] = [];
      tasks.addTask(function failing() {
        throw new Error('task failed');
      });
      tasks.addTask(() => void ran.push('after'));

      respond(tasks);
      await waitFor('the task after the failure', () => ran.length === 1);
      await idle(tasks);
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
        const runner = new BackgroundTaskRunner({ onTaskFailed });
        const tasks = requestTasks(runner);
        const ran: string[] = [];
        tasks.addTask(function failing() {
          throw new Error('task failed');
        });
        tasks.addTask(() => void ran.push('after'));

        respond(tasks);
        await waitFor('the hook’s rejection to be logged', () => watched.error.mock.calls.length === 2);
        await idle(tasks);
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
        const runner = new BackgroundTaskRunner({ onTaskFailed });
        const tasks = requestTasks(runner);
        tasks.addTask(function one() {
          throw new Error('one failed');
        });
        tasks.addTask(function two() {
          throw new Error('two failed');
        });

        respond(tasks);
        await waitFor('four errors to be logged', () => watched.error.mock.calls.length === 4);
        await idle(tasks);
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
      const runner = new BackgroundTaskRunner({ onTaskFailed });
      const tasks = requestTasks(runner, 'POST', '/dictionary');
      const thrown = Object.create(null) as object;
      const ran: string[] = [];
      tasks.addTask(function throwsBareObject() {
        throw thrown;
      });
      tasks.addTask(() => void ran.push('after'));

      respond(tasks);
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
        const runner = new BackgroundTaskRunner({ onTaskFailed });
        const tasks = requestTasks(runner, 'POST', '/dictionary');
        tasks.addTask(function failing() {
          throw new Error('task failed');
        });

        respond(tasks);
        await waitFor('onTaskFailed to be called', () => onTaskFailed.mock.calls.length === 1);
        await idle(tasks);
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

  describe('shutdown', () => {
    it('resolves both shutdown hooks at once, without a warning, when nothing runs', async () => {
      const runner = new BackgroundTaskRunner(); // default timeout: 10 s, far beyond a few ticks
      const before = track(runner.beforeApplicationShutdown());
      await flush();
      expect(before.settled).toBe(true);
      const on = track(runner.onApplicationShutdown());
      await flush();
      expect(on.settled).toBe(true);

      // Also after tasks have run and finished.
      const tasks = requestTasks(runner);
      tasks.addTask(async () => flush(1));
      respond(tasks);
      await idle(tasks);
      const again = track(Promise.all([runner.beforeApplicationShutdown(), runner.onApplicationShutdown()]));
      await flush();
      expect(again.settled).toBe(true);
      expect(watched.warn).not.toHaveBeenCalled();
    });

    it('beforeApplicationShutdown waits until every queued and added task has run', async () => {
      const runner = new BackgroundTaskRunner({ shutdownTimeout: Infinity });
      const one = requestTasks(runner, 'POST', '/one');
      const two = requestTasks(runner, 'POST', '/two');
      const gateOne = deferred();
      const gateTwo = deferred();
      const events: string[] = [];
      one.addTask(async () => {
        await gateOne.promise;
        events.push('one:slow');
        one.addTask(async () => {
          await flush(1);
          events.push('one:added');
        });
      });
      one.addTask(() => void events.push('one:next'));
      two.addTask(async () => {
        await gateTwo.promise;
        events.push('two:slow');
      });
      respond(one);
      respond(two);

      const shutdown = runner.beforeApplicationShutdown();
      const before = track(shutdown);
      await flush();
      expect(before.settled).toBe(false);

      gateOne.resolve();
      await waitFor('request one to finish', () => events.includes('one:added'));
      await flush();
      expect(before.settled).toBe(false); // request two still runs

      gateTwo.resolve();
      await shutdown;
      expect(events).toEqual(['one:slow', 'one:next', 'one:added', 'two:slow']);
      expect(one.batch.draining || two.batch.draining).toBe(false);
      expect(watched.warn).not.toHaveBeenCalled();

      const on = track(runner.onApplicationShutdown());
      await flush();
      expect(on.settled).toBe(true);
      expect(watched.warn).not.toHaveBeenCalled();
    });

    it('onApplicationShutdown waits until idle too', async () => {
      const runner = new BackgroundTaskRunner();
      const tasks = requestTasks(runner);
      const gate = deferred();
      const events: string[] = [];
      tasks.addTask(async () => {
        await gate.promise;
        events.push('slow');
      });
      tasks.addTask(() => void events.push('next'));
      respond(tasks);

      const shutdown = runner.onApplicationShutdown();
      const on = track(shutdown);
      await flush();
      expect(on.settled).toBe(false);

      gate.resolve();
      await shutdown;
      expect(events).toEqual(['slow', 'next']);
      expect(watched.warn).not.toHaveBeenCalled();
    });

    it('gives up at shutdownTimeout and warns, naming the running and the queued tasks with their requests', async () => {
      const runner = new BackgroundTaskRunner({ shutdownTimeout: 20 });
      const stuck = requestTasks(runner, 'PUT', '/jobs/7');
      const other = requestTasks(runner, 'GET', '/reports');
      const gate = deferred();
      const otherGate = deferred();
      const events: string[] = [];
      stuck.addTask(async function hangs() {
        events.push('hangs:start');
        await gate.promise;
      });
      stuck.addTask(function waitsInLine() {
        events.push('waitsInLine');
      });
      other.addTask(async function alsoHangs() {
        events.push('alsoHangs:start');
        await otherGate.promise;
      });
      respond(stuck);
      respond(other);
      await waitFor('both slow tasks to start', () => events.length === 2);

      // Nest calls both hooks in turn; they share one deadline.
      await runner.beforeApplicationShutdown();
      expect(watched.warn).not.toHaveBeenCalled();
      await runner.onApplicationShutdown();

      expect(watched.warn).toHaveBeenCalledTimes(1);
      const [warning] = watched.warnMessages();
      expect(warning).toEqual(expect.stringContaining('20 ms'));
      expect(warning).toEqual(expect.stringContaining('"hangs" (running, PUT /jobs/7)'));
      expect(warning).toEqual(expect.stringContaining('"waitsInLine" (queued, PUT /jobs/7)'));
      expect(warning).toEqual(expect.stringContaining('"alsoHangs" (running, GET /reports)'));
      expect(events).toEqual(['hangs:start', 'alsoHangs:start']);

      // Running tasks are left to finish; the queued one was dropped.
      gate.resolve();
      otherGate.resolve();
      await idle(stuck);
      await idle(other);
      expect(events).toEqual(['hangs:start', 'alsoHangs:start']);
      expect(watched.warn).toHaveBeenCalledTimes(1);
    });

    it('with shutdownTimeout 0 does not wait for a hanging task', async () => {
      const runner = new BackgroundTaskRunner({ shutdownTimeout: 0 });
      const tasks = requestTasks(runner, 'POST', '/zero');
      const gate = deferred();
      tasks.addTask(async function hangs() {
        await gate.promise;
      });
      respond(tasks);
      await runner.onApplicationShutdown();
      expect(watched.warnMessages()).toEqual([expect.stringContaining('"hangs" (running, POST /zero)')]);
      gate.resolve();
      await idle(tasks);
    });
  });
});

describe('options', () => {
  it('defaults shutdownTimeout to 10000 ms', () => {
    expect(DEFAULT_SHUTDOWN_TIMEOUT).toBe(10_000);
    expect(resolveOptions().shutdownTimeout).toBe(10_000);
    expect(resolveOptions({}).shutdownTimeout).toBe(10_000);
    expect(resolveOptions({ shutdownTimeout: undefined }).shutdownTimeout).toBe(10_000);
    expect(() => new BackgroundTaskRunner()).not.toThrow();
    expect(() => new BackgroundTaskRunner(undefined)).not.toThrow();
  });

  it('accepts Infinity, 0 and a function onTaskFailed', () => {
    const onTaskFailed = () => undefined;
    expect(resolveOptions({ shutdownTimeout: Infinity }).shutdownTimeout).toBe(Infinity);
    expect(resolveOptions({ shutdownTimeout: 0 }).shutdownTimeout).toBe(0);
    expect(resolveOptions({ shutdownTimeout: 250, onTaskFailed })).toEqual({
      concurrency: Infinity,
      maxQueued: Infinity,
      overflow: 'reject',
      taskTimeout: Infinity,
      shutdownTimeout: 250,
      mode: 'background',
      onTaskFailed,
    });
    expect(() => new BackgroundTaskRunner({ shutdownTimeout: Infinity, onTaskFailed })).not.toThrow();
  });

  it.each([
    ['negative', -1, 'got number (-1).'],
    ['negative Infinity', -Infinity, 'got number (-Infinity).'],
    ['NaN', NaN, 'got number (NaN).'],
    ['a string', '100', 'got a string ("100").'],
    ['null', null, 'got null.'],
    ['a bigint', 100n, 'got bigint (100).'],
  ])('rejects a shutdownTimeout that is %s with a TypeError naming the option', (_, shutdownTimeout, got) => {
    const options = { shutdownTimeout } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(/"shutdownTimeout"/);
    expect(() => resolveOptions(options)).toThrow(got);
    expect(() => new BackgroundTaskRunner(options)).toThrow(TypeError);
    expect(() => new BackgroundTaskRunner(options)).toThrow(/"shutdownTimeout"/);
  });

  it.each([
    ['a string', 'log'],
    ['an object', {}],
    ['null', null],
    ['true', true],
  ])('rejects an onTaskFailed that is %s with a TypeError naming the option', (_, onTaskFailed) => {
    const options = { onTaskFailed } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(/"onTaskFailed"/);
    expect(() => new BackgroundTaskRunner(options)).toThrow(TypeError);
    expect(() => new BackgroundTaskRunner(options)).toThrow(/"onTaskFailed"/);
  });

  it('rejects options that are not an object', () => {
    for (const options of [null, 'fast', 5]) {
      expect(() => resolveOptions(options as unknown as BackgroundTasksModuleOptions)).toThrow(TypeError);
    }
  });
});

describe('BackgroundTasks of an HTTP request', () => {
  it('refuses a request that leads to no response, with the clear error, as its tasks could never run', () => {
    const request = { method: 'GET', url: '/orphan', headers: {} };
    expect(() => getRequestTasks(request, new BackgroundTaskRunner())).toThrow(
      'BackgroundTasks found no response for this HTTP request, so its tasks could never run.',
    );
  });
});

describe('BackgroundTasks.addTask', () => {
  it.each([
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a string', 'str', '"str"'],
    ['a number', 42, '42'],
    ['an object', {}, 'object'],
  ])('throws a TypeError naming %s given instead of a function, and queues nothing', async (_, value, named) => {
    const runner = new BackgroundTaskRunner();
    const tasks = requestTasks(runner);
    const call = () => tasks.addTask(value as never);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(named);
    expect(runner.stats().queued).toBe(0);

    // Also once a runner is attached, where addTask would start a run.
    respond(tasks);
    expect(call).toThrow(TypeError);
    expect(runner.stats().queued).toBe(0);
    expect(tasks.batch.draining).toBe(false);
    await flush();
    expect(watched.error).not.toHaveBeenCalled();
  });

  it('queues nothing for a bad call in between good ones', async () => {
    const runner = new BackgroundTaskRunner();
    const tasks = requestTasks(runner);
    const ran: number[] = [];
    tasks.addTask((n: number) => void ran.push(n), 1);
    expect(() => tasks.addTask(42 as never)).toThrow(TypeError);
    tasks.addTask((n: number) => void ran.push(n), 2);
    expect(runner.stats().queued).toBe(2);
    respond(tasks);
    await idle(tasks);
    await flush();
    expect(ran).toEqual([1, 2]);
    expect(watched.error).not.toHaveBeenCalled();
  });
});
