import { HttpStatus } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { BackgroundTasksMonitor } from '../../../lib/core/background-tasks-monitor.js';
import type { RequestBackgroundTasks } from '../../../lib/core/request-background-tasks.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import { BackgroundTasksOverflowException } from '../../../lib/exceptions/background-tasks-overflow.exception.js';
import { batchDone, fail, ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { flush } from '../../utils/process-watch.js';
import { idle, stats } from '../../utils/task-record.js';
import { eventsOf, GatedTasks, recordHooks } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, track, waitFor, within } from '../../utils/wait-for.js';

/**
 * Unit tests of the runner core (TaskRunner, TaskBatch), without Nest, HTTP
 * or any transport: the owner of the tasks is a RequestBackgroundTasks with a
 * fixed origin, settled the way the transports settle it, with
 * `runner.settle(batch, outcome)`. What the logger and the hooks are told is
 * in task-reporter.spec.ts; the per-request API (names, cancel, bad input) in
 * request-background-tasks.spec.ts.
 */

const watched = watchEachTest();

describe('order', () => {
  it('runs the tasks of one batch once each, in order, with their args', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const calls: unknown[][] = [];
    const payload = { id: 7 };
    tasks.addTask((email: string, message: string) => void calls.push(['notify', email, message]), 'a@b.c', 'hi');
    tasks.addTask((...numbers: number[]) => void calls.push(['sum', ...numbers]), 1, 2, 3);
    tasks.addTask((object: { id: number }) => void calls.push(['object', object]), payload);
    tasks.addTask(() => void calls.push(['no args']));

    await flush();
    expect(calls).toEqual([]); // nothing runs before the runner is handed the tasks

    succeed(tasks);
    await waitFor('four tasks to run', () => calls.length === 4);
    await batchDone(tasks);
    await flush();

    expect(calls).toEqual([['notify', 'a@b.c', 'hi'], ['sum', 1, 2, 3], ['object', payload], ['no args']]);
    expect(calls[2][1]).toBe(payload); // the very object, not a copy
    expect(watched.error).not.toHaveBeenCalled();
  });

  it('awaits each async task before the next one starts', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
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

    succeed(tasks);
    await waitFor('the first task to start', () => events.includes('first:start'));
    await flush(); // every chance to move on too early
    expect(events).toEqual(['first:start']);
    expect(tasks.batch.current).toBeDefined();

    first.resolve();
    await waitFor('the second task to start', () => events.includes('second:start'));
    await flush();
    expect(events).toEqual(['first:start', 'first:end', 'second:start']);

    second.resolve();
    await waitFor('the third task to run', () => events.includes('third'));
    await batchDone(tasks);
    expect(events).toEqual(['first:start', 'first:end', 'second:start', 'second:end', 'third']);
  });

  it('runs sync and async tasks mixed, in order', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
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

    succeed(tasks);
    await waitFor('all tasks to run', () => events.length === 7);
    await batchDone(tasks);
    await flush();
    expect(events).toEqual(['sync 1', 'async 1:start', 'async 1:end', 'sync 2', 'async 2:start', 'async 2:end', 'sync 3']);
  });

  it('runs a task added by a running task, after the ones already queued', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
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

    succeed(tasks);
    await waitFor('six events', () => events.length === 6);
    await batchDone(tasks);
    await flush();
    expect(events).toEqual(['first', 'second:start', 'second:end', 'third', 'added by first', 'added by second']);
  });

  it('starts a new run for a task added after the run has finished', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const events: string[] = [];
    tasks.addTask(async () => {
      await flush(1);
      events.push('first');
    });
    succeed(tasks);
    await waitFor('the first task to run', () => events.length === 1);
    await batchDone(tasks);
    await flush();

    tasks.addTask(async (what: string) => {
      await flush(1);
      events.push(what);
    }, 'later');
    await waitFor('the later task to run', () => events.length === 2);
    tasks.addTask((what: string) => void events.push(what), 'even later');
    await waitFor('the even later task to run', () => events.length === 3);
    await batchDone(tasks);
    await flush();
    expect(events).toEqual(['first', 'later', 'even later']);
  });

  it('runs tasks added after an empty batch was settled', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const events: string[] = [];
    succeed(tasks);
    expect(tasks.batch.current).toBeUndefined();
    tasks.addTask((what: string) => void events.push(what), 'late');
    await waitFor('the late task to run', () => events.length === 1);
    await batchDone(tasks);
    await flush();
    expect(events).toEqual(['late']);
  });

  it('runs two batches independently: a slow task of one does not hold up the other', async () => {
    const runner = new TaskRunner();
    const slowRequest = ownedTasks(runner, 'POST', '/slow');
    const fastRequest = ownedTasks(runner, 'POST', '/fast');
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

    succeed(slowRequest);
    await waitFor('the slow task to start', () => events.includes('slow:start'));
    succeed(fastRequest);
    await waitFor('the other request’s tasks to run', () => events.includes('fast:2'));
    await batchDone(fastRequest);
    await flush();
    expect(events).toEqual(['slow:start', 'fast:1', 'fast:2']);
    expect(slowRequest.batch.current).toBeDefined();

    gate.resolve();
    await batchDone(slowRequest);
    await flush();
    expect(events).toEqual(['slow:start', 'fast:1', 'fast:2', 'slow:end', 'slow:next']);
  });
});
describe('return values', () => {
  it('ignores what tasks return, other than awaiting promises and thenables', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const events: string[] = [];
    const values: unknown[] = [42, 'a string', false, 0, null, undefined, { then: 'not a function' }, [1, 2], () => 'fn'];
    for (const value of values) tasks.addTask(() => value);
    tasks.addTask(() => void events.push('after plain values'));
    tasks.addTask(async () => 'resolved value');
    tasks.addTask(() => void events.push('after a promise'));

    succeed(tasks);
    await waitFor('the tasks after the returned values', () => events.length === 2);
    await batchDone(tasks);
    await flush();
    expect(events).toEqual(['after plain values', 'after a promise']);
    expect(watched.error).not.toHaveBeenCalled();
  });

  it('awaits a returned thenable that is not a promise, and ignores its value', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
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

    succeed(tasks);
    await waitFor('the runner to subscribe to the thenable', () => thenCalls === 1);
    await flush();
    expect(events).toEqual([]); // the next task waits for the thenable

    gate.resolve();
    await waitFor('the next task to run', () => events.includes('next'));
    await batchDone(tasks);
    await flush();
    expect(events).toEqual(['thenable:fulfilled', 'next']);
    expect(thenCalls).toBe(1);
    expect(watched.error).not.toHaveBeenCalled();
  });
});

describe('concurrency', () => {
  it('runs at most `concurrency` tasks at once across requests; waiting tasks start FIFO as slots free; a request keeps its order', async () => {
    const runningSamples: number[] = [];
    const runner = new TaskRunner({ concurrency: 2 });
    const gated = new GatedTasks(() => runningSamples.push(runner.stats().running));
    const a = ownedTasks(runner, 'POST', '/a');
    a.addTask(gated.task('a1'));
    a.addTask(gated.task('a2'));
    succeed(a);
    for (const name of ['b1', 'c1', 'd1']) {
      const tasks = ownedTasks(runner, 'POST', `/${name[0]}`);
      tasks.addTask(gated.task(name));
      succeed(tasks);
    }

    // a1 and b1 take the two slots; c1 and d1 wait, in that order; a2 waits behind a1.
    await waitFor('two tasks to start', () => gated.started.length === 2);
    await flush();
    expect(gated.started).toEqual(['a1', 'b1']);
    expect(runner.stats()).toEqual(stats({ queued: 3, running: 2 }));

    gated.open('b1');
    await waitFor('the first waiting task to start', () => gated.started.length === 3);
    await flush();
    expect(gated.started).toEqual(['a1', 'b1', 'c1']);

    // a2 becomes ready only now, so it waits behind d1.
    gated.open('a1');
    await waitFor('the second waiting task to start', () => gated.started.length === 4);
    await flush();
    expect(gated.started).toEqual(['a1', 'b1', 'c1', 'd1']);
    expect(runner.stats()).toEqual(stats({ queued: 1, running: 2, succeeded: 2 }));

    gated.open('c1');
    await waitFor('a2 to start', () => gated.started.length === 5);
    gated.open('d1', 'a2');
    await idle(runner);

    expect(gated.started).toEqual(['a1', 'b1', 'c1', 'd1', 'a2']);
    expect(gated.ended).toEqual(['b1', 'a1', 'c1', 'd1', 'a2']);
    expect(gated.maxRunning).toBe(2);
    expect(Math.max(...runningSamples)).toBe(2);
    expect(runningSamples).toHaveLength(5);
    expect(runner.stats()).toEqual(stats({ succeeded: 5 }));
  });
});

describe('concurrent = true', () => {
  it("starts all of a request's async tasks before any of them finishes", async () => {
    const runner = new TaskRunner();
    const gated = new GatedTasks();
    const tasks = ownedTasks(runner);
    tasks.concurrent = true;
    for (const name of ['t1', 't2', 't3']) tasks.addTask(gated.task(name));
    succeed(tasks);
    await waitFor('all three to start', () => gated.started.length === 3);
    expect(gated.started).toEqual(['t1', 't2', 't3']);
    expect(gated.ended).toEqual([]);
    expect(runner.stats()).toEqual(stats({ running: 3 }));
    gated.open('t3', 't2', 't1');
    await idle(runner);
    expect(gated.ended).toEqual(['t3', 't2', 't1']);
    expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
  });

  it('still runs them one at a time, in order, under concurrency: 1', async () => {
    const runner = new TaskRunner({ concurrency: 1 });
    const gated = new GatedTasks();
    const tasks = ownedTasks(runner);
    tasks.concurrent = true;
    const names = ['t1', 't2', 't3'];
    for (const name of names) tasks.addTask(gated.task(name));
    succeed(tasks);
    for (const [index, name] of names.entries()) {
      await waitFor(`${name} to start`, () => gated.started.length === index + 1);
      await flush(); // every chance for the next one to start too early
      expect(gated.started).toEqual(names.slice(0, index + 1));
      expect(runner.stats()).toEqual(stats({ queued: 2 - index, running: 1, succeeded: index }));
      gated.open(name);
    }
    await idle(runner);
    expect(gated.maxRunning).toBe(1);
    expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
  });
});

describe('maxQueued and overflow', () => {
  it("'reject' throws a 503 BackgroundTasksOverflowException naming the task and maxQueued, and queues nothing", async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new TaskRunner({ maxQueued: 2, ...hooks });
    const ran: string[] = [];
    const task = (name: string) => Object.defineProperty(() => void ran.push(name), 'name', { value: name });
    // Tasks of a request still in flight count as queued.
    const inFlight = ownedTasks(runner, 'POST', '/a');
    inFlight.addTask(task('a1'));
    inFlight.addTask(task('a2'));
    const other = ownedTasks(runner, 'POST', '/b');

    const attempts: Array<[string, () => void]> = [
      ['b1', () => other.addTask(task('b1'))],
      ['named', () => other.addTaskWithOptions({ name: 'named' }, () => void ran.push('named'))],
      ['a3', () => inFlight.addTask(task('a3'))],
    ];
    for (const [name, add] of attempts) {
      let thrown: unknown;
      try {
        add();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(BackgroundTasksOverflowException);
      const exception = thrown as BackgroundTasksOverflowException;
      expect(exception.getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
      expect(exception.message).toBe(`Background task "${name}" was not accepted: maxQueued (2) tasks are already waiting.`);
    }
    expect(runner.stats()).toEqual(stats({ queued: 2 }));
    expect(sequence()).toEqual(['onTaskQueued a1', 'onTaskQueued a2']);

    succeed(inFlight);
    succeed(other);
    await idle(runner);
    expect(ran).toEqual(['a1', 'a2']);
    // Once there is room again, tasks are accepted.
    other.addTask(task('b2'));
    await idle(runner);
    expect(ran).toEqual(['a1', 'a2', 'b2']);
    expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
    expect(watched.warn).not.toHaveBeenCalled();
    expect(watched.error).not.toHaveBeenCalled();
  });

  it("'drop-newest' drops the task being added, with a warning, and addTask returns normally", async () => {
    const { hooks, calls } = recordHooks();
    const runner = new TaskRunner({ maxQueued: 2, overflow: 'drop-newest', ...hooks });
    const ran: string[] = [];
    const inFlight = ownedTasks(runner, 'POST', '/a');
    inFlight.addTask(function a1() {
      ran.push('a1');
    });
    inFlight.addTask(function a2() {
      ran.push('a2');
    });
    const other = ownedTasks(runner, 'PUT', '/b');
    expect(
      other.addTask(function b1(id: number) {
        ran.push(`b1:${id}`);
      }, 1),
    ).toBeUndefined();

    const a = eventsOf('POST', '/a');
    const b = eventsOf('PUT', '/b');
    expect(calls).toStrictEqual([
      ['onTaskQueued', a('a1')],
      ['onTaskQueued', a('a2')],
      ['onTaskQueued', b('b1', [1])],
      ['onTaskDropped', b('b1', [1], { reason: 'overflow' })],
    ]);
    expect(watched.warnMessages()).toEqual([
      'Background task "b1" of PUT /b was dropped: maxQueued (2) tasks are already waiting.',
    ]);
    expect(runner.stats()).toEqual(stats({ queued: 2, dropped: 1 }));

    succeed(inFlight);
    succeed(other);
    await idle(runner);
    expect(ran).toEqual(['a1', 'a2']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, dropped: 1 }));
  });

  it("'drop-oldest' drops the oldest queued task, of any request, even one whose response is still in flight", async () => {
    const { hooks, sequence, of } = recordHooks();
    const runner = new TaskRunner({ maxQueued: 2, overflow: 'drop-oldest', ...hooks });
    const ran: string[] = [];
    const inFlight = ownedTasks(runner, 'POST', '/a');
    inFlight.addTask(function a1() {
      ran.push('a1');
    });
    inFlight.addTask(function a2() {
      ran.push('a2');
    });
    const other = ownedTasks(runner, 'PUT', '/b');
    other.addTask(function b1() {
      ran.push('b1');
    });

    expect(sequence()).toEqual(['onTaskQueued a1', 'onTaskQueued a2', 'onTaskDropped a1', 'onTaskQueued b1']);
    expect(of('onTaskDropped')).toStrictEqual([eventsOf('POST', '/a')('a1', [], { reason: 'overflow' })]);
    expect(watched.warnMessages()).toEqual([
      'Background task "a1" of POST /a was dropped: maxQueued (2) tasks are already waiting.',
    ]);
    expect(runner.stats()).toEqual(stats({ queued: 2, dropped: 1 }));

    succeed(inFlight);
    succeed(other);
    await idle(runner);
    expect(ran).toEqual(['a2', 'b1']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, dropped: 1 }));
  });

  it("'drop-oldest' drops a task that waits for a concurrency slot, and the slot passes on", async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new TaskRunner({ concurrency: 1, maxQueued: 2, overflow: 'drop-oldest', ...hooks });
    const gated = new GatedTasks();
    const holder = ownedTasks(runner, 'POST', '/x');
    holder.addTask(gated.task('x1'));
    succeed(holder);
    await waitFor('x1 to start', () => gated.started.length === 1);
    const waiting = ownedTasks(runner, 'POST', '/y');
    waiting.addTask(gated.task('y1'));
    succeed(waiting);
    await flush();
    expect(runner.stats()).toEqual(stats({ queued: 1, running: 1 }));

    const inFlight = ownedTasks(runner, 'POST', '/z');
    inFlight.addTask(gated.task('z1'));
    inFlight.addTask(gated.task('z2'));
    expect(watched.warnMessages()).toEqual([
      'Background task "y1" of POST /y was dropped: maxQueued (2) tasks are already waiting.',
    ]);
    expect(runner.stats()).toEqual(stats({ queued: 2, running: 1, dropped: 1 }));

    gated.open('x1', 'z1', 'z2');
    succeed(inFlight);
    await idle(runner);
    expect(gated.started).toEqual(['x1', 'z1', 'z2']);
    expect(sequence()).toEqual([
      'onTaskQueued x1',
      'onTaskStarted x1',
      'onTaskQueued y1',
      'onTaskQueued z1',
      'onTaskDropped y1',
      'onTaskQueued z2',
      'onTaskSucceeded x1',
      'onTaskStarted z1',
      'onTaskSucceeded z1',
      'onTaskStarted z2',
      'onTaskSucceeded z2',
    ]);
    expect(runner.stats()).toEqual(stats({ succeeded: 3, dropped: 1 }));
  });
});

describe('always tasks of failed requests', () => {
  it('for a failed request, runs only the always tasks and drops the others, also those added afterwards', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner, 'POST', '/login');
    const ran: string[] = [];
    const record = ({ name }: { name: string }) => void ran.push(name);
    tasks.addTask(function plain() {
      ran.push('plain');
    });
    tasks.addTaskWithOptions({ name: 'audit', always: true }, record);
    tasks.addTaskWithOptions({ name: 'notAlways', always: false }, record);
    tasks.addTaskWithOptions({ name: 'alert', always: true }, record);
    await flush();
    expect(ran).toEqual([]);

    fail(tasks);
    await idle(runner);
    expect(ran).toEqual(['audit', 'alert']);

    tasks.addTask(function late() {
      ran.push('late');
    });
    tasks.addTaskWithOptions({ name: 'lateAlways', always: true }, record);
    await idle(runner);
    expect(ran).toEqual(['audit', 'alert', 'lateAlways']);
    expect(of('onTaskDropped').map(({ name, reason }) => [name, reason])).toEqual([
      ['plain', 'request-failed'],
      ['notAlways', 'request-failed'],
      ['late', 'request-failed'],
    ]);
    expect(runner.stats()).toEqual(stats({ succeeded: 3, dropped: 3 }));
  });
});

describe("mode 'disabled'", () => {
  it("runs nothing and reports every task dropped with reason 'disabled'", async () => {
    const { hooks, sequence, of } = recordHooks();
    const runner = new TaskRunner({ mode: 'disabled', ...hooks });
    const ran: string[] = [];
    const record = ({ name }: { name: string }) => void ran.push(name);
    const succeeded = ownedTasks(runner, 'POST', '/ok');
    succeeded.addTask(function plain() {
      ran.push('plain');
    });
    succeeded.addTaskWithOptions({ name: 'always', always: true }, record);
    const failed = ownedTasks(runner, 'POST', '/denied');
    failed.addTaskWithOptions({ name: 'auditDenied', always: true }, record);
    succeed(succeeded);
    fail(failed);
    succeeded.addTaskWithOptions({ name: 'afterwards' }, record);
    await idle(runner);
    await flush();

    expect(ran).toEqual([]);
    expect(sequence().filter((entry) => !entry.startsWith('onTaskQueued'))).toEqual([
      'onTaskDropped plain',
      'onTaskDropped always',
      'onTaskDropped auditDenied',
      'onTaskDropped afterwards',
    ]);
    expect(of('onTaskDropped').map(({ reason }) => reason)).toEqual(['disabled', 'disabled', 'disabled', 'disabled']);
    expect(runner.stats()).toEqual(stats({ dropped: 4 }));
  });
});

describe('async context', () => {
  it.each(['addTask', 'addTaskWithOptions'] as const)(
    'runs a task added with %s in the async context it was added in, each request with its own store',
    async (method) => {
      const als = new AsyncLocalStorage<{ id: number }>();
      const runner = new TaskRunner();
      const seen = new Map<string, number | undefined>();
      const record = async (label: string) => {
        await flush(1); // the next task starts from a promise continuation, not from the caller
        seen.set(label, als.getStore()?.id);
      };
      const add = (tasks: RequestBackgroundTasks, label: string) =>
        method === 'addTask'
          ? tasks.addTask(record, label)
          : tasks.addTaskWithOptions({}, (_context, l: string) => record(l), label);

      const requests = [1, 2].map((id) => {
        const tasks = ownedTasks(runner, 'POST', `/requests/${id}`);
        als.run({ id }, () => {
          add(tasks, `${id}:first`);
          add(tasks, `${id}:second`);
        });
        return tasks;
      });
      expect(als.getStore()).toBeUndefined();
      // Run from yet another context: the tasks must not see this one.
      als.run({ id: 0 }, () => requests.forEach(succeed));
      await idle(runner);

      expect(Object.fromEntries(seen)).toEqual({ '1:first': 1, '1:second': 1, '2:first': 2, '2:second': 2 });
    },
  );
});

describe('stats() and whenIdle()', () => {
  it('stats() returns a snapshot, which later work does not change (also through the public BackgroundTasksMonitor)', async () => {
    const runner = new TaskRunner();
    const facade = new BackgroundTasksMonitor(runner);
    const atStart = runner.stats();
    const publicAtStart = facade.stats();
    const tasks = ownedTasks(runner);
    tasks.addTask(() => undefined);
    const whileQueued = runner.stats();
    succeed(tasks);
    await idle(runner);

    expect(atStart).toEqual(stats());
    expect(publicAtStart).toEqual(stats());
    expect(whileQueued).toEqual(stats({ queued: 1 }));
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
    expect(facade.stats()).toEqual(stats({ succeeded: 1 }));
    // Writing to a snapshot changes nothing either.
    (whileQueued as { succeeded: number }).succeeded = 99;
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it('whenIdle() waits for the tasks of a request whose response is still in flight', async () => {
    const runner = new TaskRunner();
    await idle(runner); // nothing added yet
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    tasks.addTask(async () => {
      await flush(1);
      ran.push('task');
    });
    const whenIdle = runner.whenIdle();
    const state = track(whenIdle);
    await flush();
    expect(state.settled).toBe(false);
    expect(runner.stats()).toEqual(stats({ queued: 1 }));

    succeed(tasks);
    await within('whenIdle() to resolve', whenIdle);
    expect(ran).toEqual(['task']);
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });
});

describe('inspect()', () => {
  it('lists the oldest queued and running tasks, at most `limit` of each, with totals, ages and origins', async () => {
    const runner = new TaskRunner({ concurrency: 1 });
    const facade = new BackgroundTasksMonitor(runner);
    const first = ownedTasks(runner, 'POST', '/first');
    const gate = deferred();
    first.addTask(async function holdsTheSlot() {
      await gate.promise;
    });
    succeed(first);
    const second = ownedTasks(runner, 'GET', '/second');
    for (const name of ['a', 'b', 'c']) second.addTaskWithOptions({ name }, () => undefined);

    const snapshot = facade.inspect(2);
    const queued = (name: string) => ({
      name,
      state: 'queued',
      transport: 'http',
      method: 'GET',
      path: '/second',
      age: expect.any(Number),
    });
    expect(snapshot).toEqual({
      queued: { total: 3, tasks: [queued('a'), queued('b')] },
      running: {
        total: 1,
        tasks: [
          {
            name: 'holdsTheSlot',
            state: 'running',
            transport: 'http',
            method: 'POST',
            path: '/first',
            age: expect.any(Number),
            runningFor: expect.any(Number),
          },
        ],
      },
      overdue: { total: 0, tasks: [] },
    });
    const [running] = snapshot.running.tasks;
    expect(running.runningFor).toBeGreaterThanOrEqual(0);
    expect(running.runningFor).toBeLessThanOrEqual(running.age);
    // The oldest first: the first task was added before the second request's.
    expect(running.age).toBeGreaterThanOrEqual(snapshot.queued.tasks[0].age);

    // A snapshot: it does not change as the tasks do.
    second.cancel('a');
    expect(snapshot.queued.total).toBe(3);
    expect(facade.inspect(10).queued.tasks.map(({ name }) => name)).toEqual(['b', 'c']);

    gate.resolve();
    succeed(second);
    await idle(runner);
    const none = { total: 0, tasks: [] };
    expect(facade.inspect()).toEqual({ queued: none, running: none, overdue: none });
  });

  it('lists 100 of each by default', () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    for (let i = 0; i < 150; i++) tasks.addTask(() => undefined);
    const { queued } = new BackgroundTasksMonitor(runner).inspect();
    expect(queued.total).toBe(150);
    expect(queued.tasks).toHaveLength(100);
    succeed(tasks);
  });
});
