import { jest } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTaskOptions } from '../../../lib/interfaces/index.js';
import { ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { flush } from '../../utils/process-watch.js';
import { idle, stats } from '../../utils/task-record.js';
import { aborted, eventsOf, expectSaneDurations, GatedTasks, recordHooks } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, letWrongOutcomeShow, track, waitFor, within } from '../../utils/wait-for.js';

/**
 * The timeouts of tasks run in-process (InProcessExecution), through the
 * runner, which reports them. Without Nest or any
 * transport: the owner of the tasks is a RequestBackgroundTasks with a fixed
 * origin, settled the way the transports settle it (see task-runner.spec.ts).
 */

const watched = watchEachTest();

describe('timeouts', () => {
  it.each(['resolves', 'rejects'] as const)(
    'aborts the signal of an overrunning task with a TimeoutError, reports it, starts the next task at the deadline, and reports nothing when it later %s',
    async (settle) => {
      const { hooks, calls, of, sequence } = recordHooks();
      const runner = new TaskRunner(hooks);
      const tasks = ownedTasks(runner, 'POST', '/reports');
      const gate = deferred();
      const events: string[] = [];
      let signal: AbortSignal | undefined;
      let overrunEnded = false;
      tasks.addTaskWithOptions(
        { name: 'render', timeout: 30 },
        async (context, id: number) => {
          signal = context.signal;
          events.push(`render:start ${id}`);
          await gate.promise;
          overrunEnded = true;
          if (settle === 'rejects') throw new Error('late failure');
        },
        7,
      );
      tasks.addTask(function upload() {
        events.push(`upload:start render-aborted=${signal?.aborted}`);
      });
      succeed(tasks);

      await waitFor('the next task to start', () => events.length === 2);
      // It started once the signal had been aborted, while render was still pending.
      expect(events).toEqual(['render:start 7', 'upload:start render-aborted=true']);
      expect(overrunEnded).toBe(false);
      const reason = signal!.reason as DOMException;
      expect(reason).toBeInstanceOf(DOMException);
      expect(reason.name).toBe('TimeoutError');

      expect(of('onTaskTimedOut')).toStrictEqual([
        eventsOf('POST', '/reports')('render', [7], { duration: expect.any(Number), error: reason }),
      ]);
      expect(of('onTaskTimedOut')[0].error).toBe(reason);
      expectSaneDurations(calls);
      expect(watched.errorMessages()).toEqual(['Background task "render" of POST /reports timed out after 30 ms.']);
      // Warned of on a later turn, as it has not returned by then.
      await waitFor('the overdue warning', () => watched.warn.mock.calls.length === 1);
      expect(watched.warnMessages()).toEqual([
        'Background task "render" of POST /reports is overdue: it timed out and still runs, keeping its slot until it returns. ' +
          'Make it stop when its signal is aborted (pass signal to fetch(), your driver, or check signal.aborted in loops).',
      ]);
      const reported = sequence();
      expect(reported).toEqual([
        'onTaskQueued render',
        'onTaskQueued upload',
        'onTaskStarted render',
        'onTaskTimedOut render',
        'onTaskStarted upload',
        'onTaskSucceeded upload',
      ]);
      // A task that timed out is overdue, not running, until its body returns; its outcome is decided.
      expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1, overdue: 1 }));
      expect(runner.inspect(10).overdue.tasks.map(({ name, state }) => [name, state])).toEqual([['render', 'overdue']]);
      const whenIdle = runner.whenIdle();
      const idleYet = track(whenIdle);
      await flush();
      expect(idleYet.settled).toBe(false);

      gate.resolve();
      await waitFor('render to settle late', () => overrunEnded);
      await within('whenIdle() once the overdue body has returned', whenIdle);
      expect(sequence()).toEqual(reported);
      expect(watched.error).toHaveBeenCalledTimes(1);
      expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1 }));
    },
  );

  it('applies the module taskTimeout to plain addTask tasks, which have no signal', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner({ taskTimeout: 20, ...hooks });
    const tasks = ownedTasks(runner, 'DELETE', '/cache');
    const gate = deferred();
    const events: string[] = [];
    tasks.addTask(async function purge(region: string) {
      events.push(`purge:${region}`);
      await gate.promise;
    }, 'eu');
    tasks.addTask(function next() {
      events.push('next');
    });
    succeed(tasks);

    await waitFor('the next task to start', () => events.length === 2);
    expect(events).toEqual(['purge:eu', 'next']);
    const [timedOut] = of('onTaskTimedOut');
    expect(of('onTaskTimedOut')).toStrictEqual([
      eventsOf('DELETE', '/cache')('purge', ['eu'], { duration: expect.any(Number), error: expect.any(DOMException) }),
    ]);
    expect((timedOut.error as DOMException).name).toBe('TimeoutError');
    expect(watched.errorMessages()).toEqual(['Background task "purge" of DELETE /cache timed out after 20 ms.']);
    gate.resolve();
    await flush();
    expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1 }));
  });

  it('lets a per-task timeout override taskTimeout, both shorter and Infinity', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner({ taskTimeout: 40, ...hooks });
    const tasks = ownedTasks(runner, 'POST', '/p');
    tasks.concurrent = true;
    const signals = new Map<string, AbortSignal>();
    const gate = deferred();
    const add = (options: BackgroundTaskOptions & { name: string }) =>
      tasks.addTaskWithOptions(options, async ({ signal, name }) => {
        signals.set(name, signal);
        await Promise.race([gate.promise, aborted(signal)]);
      });
    // Started first: were its timeout 40 ms, it would expire before 'default' does.
    add({ name: 'unbounded', timeout: Infinity });
    add({ name: 'default' });
    add({ name: 'short', timeout: 20 });
    succeed(tasks);

    await waitFor('two timeouts', () => of('onTaskTimedOut').length === 2);
    expect(of('onTaskTimedOut').map((event) => event.name)).toEqual(['short', 'default']);
    expect(watched.errorMessages()).toEqual([
      'Background task "short" of POST /p timed out after 20 ms.',
      'Background task "default" of POST /p timed out after 40 ms.',
    ]);
    expect(signals.get('unbounded')!.aborted).toBe(false);
    expect(runner.stats()).toEqual(stats({ running: 1, timedOut: 2 }));

    gate.resolve();
    await idle(runner);
    expect(of('onTaskSucceeded').map((event) => event.name)).toEqual(['unbounded']);
    expect(signals.get('unbounded')!.aborted).toBe(false);
    expect(runner.stats()).toEqual(stats({ succeeded: 1, timedOut: 2 }));
  });

  it('does not abort a task that finishes within its timeout', async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner, 'POST', '/p');
    const signals = new Map<string, AbortSignal>();
    tasks.addTaskWithOptions({ name: 'quick', timeout: 20 }, async ({ signal, name }) => {
      signals.set(name, signal);
      await flush(1);
    });
    // Its deadline comes after the one quick would have had.
    tasks.addTaskWithOptions({ name: 'hangs', timeout: 20 }, async ({ signal, name }) => {
      signals.set(name, signal);
      await aborted(signal);
    });
    succeed(tasks);

    await idle(runner);
    expect(signals.get('hangs')!.aborted).toBe(true);
    expect(signals.get('quick')!.aborted).toBe(false);
    expect(sequence()).toEqual([
      'onTaskQueued quick',
      'onTaskQueued hangs',
      'onTaskStarted quick',
      'onTaskSucceeded quick',
      'onTaskStarted hangs',
      'onTaskTimedOut hangs',
    ]);
    expect(watched.errorMessages()).toEqual(['Background task "hangs" of POST /p timed out after 20 ms.']);
    await letWrongOutcomeShow();
    // It returned as soon as its signal was aborted: not overdue, so nothing to warn of.
    expect(watched.warn).not.toHaveBeenCalled();
    expect(runner.stats()).toEqual(stats({ succeeded: 1, timedOut: 1 }));
  });

  it('keeps the slot of a task past its timeout until its body returns: never more than `concurrency` bodies run', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner({ concurrency: 1, taskTimeout: 30, ...hooks });
    const gated = new GatedTasks();
    const requests = ['a', 'b', 'c'].map((name) => {
      const tasks = ownedTasks(runner, 'POST', `/${name}`);
      tasks.addTask(gated.task(name)); // ignores its deadline: it has no signal
      succeed(tasks);
      return tasks;
    });

    await waitFor('a to time out', () => of('onTaskTimedOut').length === 1);
    await letWrongOutcomeShow();
    // Reported at its deadline, but its body still runs, so b may not start.
    expect(gated.started).toEqual(['a']);
    expect(runner.stats()).toEqual(stats({ timedOut: 1, overdue: 1, queued: 2 }));
    expect(runner.inspect(10).overdue).toEqual({
      total: 1,
      tasks: [expect.objectContaining({ name: 'a', state: 'overdue', path: '/a', runningFor: expect.any(Number) })],
    });
    expect(watched.warnMessages()).toEqual([
      'Background task "a" of POST /a is overdue: it timed out and still runs, keeping its slot (one of concurrency: 1) until it returns. ' +
        'Add it with addTaskWithOptions() and make it stop when its signal is aborted.',
    ]);

    gated.open('a');
    await waitFor('b to start once a has returned', () => gated.started.length === 2);
    gated.open('b', 'c');
    await idle(runner);
    expect(gated.started).toEqual(['a', 'b', 'c']);
    expect(gated.maxRunning).toBe(1);
    expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 2 }));
    expect(requests.every(({ batch }) => batch.unfinished === 0)).toBe(true);
  });

  it.each([
    ['a sync task', false],
    ['an async task whose sync start', true],
  ])('reports %s that overran its timeout as timed out once it returns: no timer can interrupt sync code', async (_, async) => {
    const { hooks, sequence, of } = recordHooks();
    const runner = new TaskRunner({ taskTimeout: 20, ...hooks });
    const tasks = ownedTasks(runner, 'POST', '/hash');
    const gate = deferred();
    tasks.addTask(function hash() {
      const until = performance.now() + 40;
      while (performance.now() < until); // busy, as a CPU-bound task is
      return async ? gate.promise : undefined;
    });
    tasks.addTask(function next() {});
    succeed(tasks);

    await waitFor('both tasks to have ended', () => sequence().includes('onTaskSucceeded next'));
    expect(sequence()).toEqual([
      'onTaskQueued hash',
      'onTaskQueued next',
      'onTaskStarted hash',
      'onTaskTimedOut hash',
      'onTaskStarted next',
      'onTaskSucceeded next',
    ]);
    expect((of('onTaskTimedOut')[0].error as DOMException).name).toBe('TimeoutError');
    expect(of('onTaskTimedOut')[0].duration).toBeGreaterThanOrEqual(20);
    expect(watched.errorMessages()).toEqual(['Background task "hash" of POST /hash timed out after 20 ms.']);
    // The async one's body still runs, in its slot.
    expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1, overdue: async ? 1 : 0 }));
    gate.resolve();
    await idle(runner);
    expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1 }));
  });

  it('clears the deadline of a task that ends in time: its timer, which holds the task and its arguments, does not live on', async () => {
    // Only the runner's timers are faked; flush() still turns the event loop.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const runner = new TaskRunner({ taskTimeout: 60_000 });
      const tasks = ownedTasks(runner);
      const gate = deferred();
      const payload = { big: new Array(1_000).fill('x') };
      tasks.addTask(async (_payload: typeof payload) => gate.promise, payload);
      tasks.addTaskWithOptions({ name: 'own', timeout: 30_000 }, async () => gate.promise);
      tasks.addTask(() => undefined); // a sync task gets no timer at all
      succeed(tasks);
      expect(jest.getTimerCount()).toBe(1); // the first task's deadline

      gate.resolve();
      await flush();
      expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
