import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import { batchDone, ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { flush } from '../../utils/process-watch.js';
import { idle, stats } from '../../utils/task-record.js';
import { aborted, eventsOf, recordHooks } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, track, waitFor, within } from '../../utils/wait-for.js';

/**
 * Shutdown (ShutdownDrain), through the runner's two shutdown hooks. Without Nest or any
 * transport: the owner of the tasks is a RequestBackgroundTasks with a fixed
 * origin, settled the way the transports settle it (see task-runner.spec.ts).
 */

const watched = watchEachTest();

describe('shutdown', () => {
  it('resolves both shutdown hooks at once, without a warning, when nothing runs', async () => {
    const runner = new TaskRunner(); // default timeout: 10 s, far beyond a few ticks
    const before = track(runner.beforeApplicationShutdown());
    await flush();
    expect(before.settled).toBe(true);
    const on = track(runner.onApplicationShutdown());
    await flush();
    expect(on.settled).toBe(true);

    // Also after tasks have run and finished.
    const tasks = ownedTasks(runner);
    tasks.addTask(async () => flush(1));
    succeed(tasks);
    await batchDone(tasks);
    const again = track(Promise.all([runner.beforeApplicationShutdown(), runner.onApplicationShutdown()]));
    await flush();
    expect(again.settled).toBe(true);
    expect(watched.warn).not.toHaveBeenCalled();
  });

  it('beforeApplicationShutdown waits until every queued and added task has run', async () => {
    const runner = new TaskRunner({ shutdownTimeout: Infinity });
    const one = ownedTasks(runner, 'POST', '/one');
    const two = ownedTasks(runner, 'POST', '/two');
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
    succeed(one);
    succeed(two);

    const shutdown = runner.beforeApplicationShutdown();
    const before = track(shutdown);
    await flush();
    expect(before.settled).toBe(false);

    gateOne.resolve();
    await waitFor('request one to finish', () => events.includes('one:added'));
    await flush();
    expect(before.settled).toBe(false); // request two still runs

    gateTwo.resolve();
    await within('the shutdown hook to resolve', shutdown);
    expect(events).toEqual(['one:slow', 'one:next', 'one:added', 'two:slow']);
    expect(one.batch.current ?? two.batch.current).toBeUndefined();
    expect(watched.warn).not.toHaveBeenCalled();

    const on = track(runner.onApplicationShutdown());
    await flush();
    expect(on.settled).toBe(true);
    expect(watched.warn).not.toHaveBeenCalled();
  });

  it('onApplicationShutdown waits until idle too', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const gate = deferred();
    const events: string[] = [];
    tasks.addTask(async () => {
      await gate.promise;
      events.push('slow');
    });
    tasks.addTask(() => void events.push('next'));
    succeed(tasks);

    const shutdown = runner.onApplicationShutdown();
    const on = track(shutdown);
    await flush();
    expect(on.settled).toBe(false);

    gate.resolve();
    await within('the shutdown hook to resolve', shutdown);
    expect(events).toEqual(['slow', 'next']);
    expect(watched.warn).not.toHaveBeenCalled();
  });

  it('at shutdownTimeout, aborts the signals of running tasks with an AbortError, drops the queued ones, names them all in one warning, and lets running tasks end', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner({ shutdownTimeout: 100, ...hooks });
    const reasons = new Map<string, unknown>();
    const untilAborted = async ({ signal, name }: { signal: AbortSignal; name: string }) => {
      await aborted(signal);
      reasons.set(name, signal.reason);
    };
    const first = ownedTasks(runner, 'POST', '/x');
    first.addTaskWithOptions({ name: 'a' }, untilAborted);
    first.addTaskWithOptions({ name: 'b' }, untilAborted);
    const inFlight = ownedTasks(runner, 'PUT', '/y');
    inFlight.addTaskWithOptions({ name: 'c' }, untilAborted);
    const second = ownedTasks(runner, 'DELETE', '/z');
    second.addTaskWithOptions({ name: 'd' }, untilAborted);
    // A plain task has no signal: it is left to finish; the task behind it is dropped.
    const stuck = ownedTasks(runner, 'PUT', '/jobs/7');
    const gate = deferred();
    const ran: string[] = [];
    stuck.addTask(async function hangs() {
      await gate.promise;
      ran.push('hangs');
    });
    stuck.addTask(function waitsInLine() {
      ran.push('waitsInLine');
    });
    succeed(first);
    succeed(second);
    succeed(stuck);
    await waitFor('a, d and hangs to start', () => runner.stats().running === 3);

    // Nest calls both hooks in turn; the in-flight request's task keeps the second one waiting.
    await within('beforeApplicationShutdown to resolve', runner.beforeApplicationShutdown());
    expect(watched.warn).not.toHaveBeenCalled();
    expect(reasons.size).toBe(0);
    await within('onApplicationShutdown to give up', runner.onApplicationShutdown());

    expect(watched.warnMessages()).toEqual([
      'Shutdown timeout of 100 ms expired; running tasks have their signal aborted, queued ones are dropped: ' +
        '"a" (running, POST /x), "d" (running, DELETE /z), "hangs" (running, PUT /jobs/7), ' +
        '"b" (queued, POST /x), "c" (queued, PUT /y), "waitsInLine" (queued, PUT /jobs/7)',
    ]);
    gate.resolve();
    await idle(runner);
    expect([...reasons.keys()]).toEqual(['a', 'd']);
    for (const reason of reasons.values()) {
      expect(reason).toBeInstanceOf(DOMException);
      expect((reason as DOMException).name).toBe('AbortError');
    }
    expect(ran).toEqual(['hangs']);
    expect(of('onTaskDropped')).toStrictEqual([
      eventsOf('POST', '/x')('b', [], { reason: 'shutdown' }),
      eventsOf('PUT', '/y')('c', [], { reason: 'shutdown' }),
      eventsOf('PUT', '/jobs/7')('waitsInLine', [], { reason: 'shutdown' }),
    ]);
    expect(runner.stats()).toEqual(stats({ succeeded: 3, dropped: 3 }));
    expect(watched.warn).toHaveBeenCalledTimes(1);
  });

  it('logs once what it waits for, and then how long it took; nothing when there was nothing to wait for', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      const idleRunner = new TaskRunner();
      await Promise.all([idleRunner.beforeApplicationShutdown(), idleRunner.onApplicationShutdown()]);
      expect(log).not.toHaveBeenCalled();

      const runner = new TaskRunner({ shutdownTimeout: 5_000 });
      const tasks = ownedTasks(runner);
      const gate = deferred();
      tasks.addTask(async () => gate.promise);
      tasks.addTask(() => undefined);
      succeed(tasks);
      // Both phases wait, and every import of the module calls each: one line all the same.
      const shutdown = Promise.all([runner.beforeApplicationShutdown(), runner.beforeApplicationShutdown()]).then(() =>
        Promise.all([runner.onApplicationShutdown(), runner.onApplicationShutdown()]),
      );
      await flush();
      expect(log.mock.calls.map(([message]) => message)).toEqual(['Waiting for 2 background tasks (1 running), up to 5000 ms.']);
      gate.resolve();
      await within('shutdown', shutdown);
      expect(log.mock.calls.map(([message]) => message)).toEqual([
        'Waiting for 2 background tasks (1 running), up to 5000 ms.',
        expect.stringMatching(/^Background tasks drained in \d+ ms\.$/),
      ]);
      expect(watched.warn).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });

  it('gives both shutdown phases one shutdownTimeout between them, not one each', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const runner = new TaskRunner({ shutdownTimeout: 1_000 });
      const tasks = ownedTasks(runner, 'POST', '/hangs');
      const gate = deferred();
      tasks.addTask(async function hangs() {
        await gate.promise;
      });
      succeed(tasks);

      const before = track(runner.beforeApplicationShutdown());
      await jest.advanceTimersByTimeAsync(999);
      expect(before.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await flush();
      expect(before.settled).toBe(true);
      expect(watched.warn).not.toHaveBeenCalled();

      // The deadline has passed: the second phase gives up at once, instead of waiting another 1,000 ms.
      const on = track(runner.onApplicationShutdown());
      await jest.advanceTimersByTimeAsync(1);
      await flush();
      expect(on.settled).toBe(true);
      expect(watched.warnMessages()).toEqual([expect.stringContaining('"hangs" (running, POST /hangs)')]);
      gate.resolve();
      await flush();
      expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts the tasks of a batch settled twice once: the first shutdown phase ends as soon as they have run', async () => {
    const runner = new TaskRunner({ shutdownTimeout: Infinity });
    const tasks = ownedTasks(runner);
    const gate = deferred();
    const ran: string[] = [];
    tasks.addTask(async () => {
      await gate.promise;
      ran.push('slow');
    });
    tasks.addTask(() => void ran.push('next'));
    runner.settle(tasks.batch, 'succeeded');
    runner.settle(tasks.batch, 'succeeded');
    runner.settle(tasks.batch, 'failed'); // nor does a second outcome change the first

    const before = track(runner.beforeApplicationShutdown());
    await flush();
    expect(before.settled).toBe(false);
    gate.resolve();
    await idle(runner);
    await flush();
    expect(before.settled).toBe(true);
    expect(ran).toEqual(['slow', 'next']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2 }));
    const on = track(runner.onApplicationShutdown());
    await flush();
    expect(on.settled).toBe(true);
    expect(watched.warn).not.toHaveBeenCalled();
  });

  it('with shutdownTimeout 0 does not wait for a hanging task', async () => {
    const runner = new TaskRunner({ shutdownTimeout: 0 });
    const tasks = ownedTasks(runner, 'POST', '/zero');
    const gate = deferred();
    tasks.addTask(async function hangs() {
      await gate.promise;
    });
    succeed(tasks);
    await runner.onApplicationShutdown();
    expect(watched.warnMessages()).toEqual([expect.stringContaining('"hangs" (running, POST /zero)')]);
    gate.resolve();
    await batchDone(tasks);
  });

  it('waits for an overdue task, whose body still runs, and names it as overdue at the deadline', async () => {
    const runner = new TaskRunner({ shutdownTimeout: 100, taskTimeout: 10 });
    const tasks = ownedTasks(runner, 'POST', '/slow');
    const gate = deferred();
    tasks.addTask(async function ignoresItsSignal() {
      await gate.promise;
    });
    succeed(tasks);
    await waitFor('it to be overdue', () => runner.stats().overdue === 1);

    await within('beforeApplicationShutdown to give up', runner.beforeApplicationShutdown(), 2_000);
    await within('onApplicationShutdown to give up', runner.onApplicationShutdown(), 2_000);
    expect(watched.warnMessages().at(-1)).toBe(
      'Shutdown timeout of 100 ms expired; running tasks have their signal aborted, queued ones are dropped: ' +
        '"ignoresItsSignal" (overdue, POST /slow)',
    );
    gate.resolve();
    await idle(runner);
    expect(runner.stats()).toEqual(stats({ timedOut: 1 }));
  });
});
