import { jest } from '@jest/globals';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTaskOptions } from '../../../lib/interfaces/index.js';
import { batchDone, ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { flush } from '../../utils/process-watch.js';
import { idle, stats } from '../../utils/task-record.js';
import { eventsOf, GatedTasks, recordHooks } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, track, waitFor } from '../../utils/wait-for.js';

/**
 * RequestBackgroundTasks, the public API over one batch: addTask,
 * addTaskWithOptions, names and cancel(), bad input, finish() and runInline().
 * No transport: the owner is settled as the transports settle it.
 */

const watched = watchEachTest();

describe('names', () => {
  it("replaces a queued task of the same name: the old one is cancelled ('replaced'), the new one runs at the end", async () => {
    const { hooks, calls } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner, 'POST', '/digest');
    const ran: string[] = [];
    const digest = (_context: unknown, version: string) => void ran.push(`digest ${version}`);
    tasks.addTaskWithOptions({ name: 'digest' }, digest, 'v1');
    tasks.addTask(function other() {
      ran.push('other');
    });
    tasks.addTaskWithOptions({ name: 'digest' }, digest, 'v2');

    const event = eventsOf('POST', '/digest');
    expect(calls).toStrictEqual([
      ['onTaskQueued', event('digest', ['v1'])],
      ['onTaskQueued', event('other')],
      ['onTaskCancelled', event('digest', ['v1'], { reason: 'replaced' })],
      ['onTaskQueued', event('digest', ['v2'])],
    ]);
    succeed(tasks);
    await idle(runner);
    expect(ran).toEqual(['other', 'digest v2']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, cancelled: 1 }));
  });

  it('only queues the new task when the one of the same name has already started', async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner);
    const gated = new GatedTasks();
    tasks.addTaskWithOptions({ name: 'sync' }, gated.task('first'));
    succeed(tasks);
    await waitFor('the first task to start', () => gated.started.length === 1);
    tasks.addTaskWithOptions({ name: 'sync' }, gated.task('second'));
    gated.open('first', 'second');
    await idle(runner);
    expect(gated.ended).toEqual(['first', 'second']);
    expect(sequence()).not.toContain('onTaskCancelled sync');
    expect(runner.stats()).toEqual(stats({ succeeded: 2 }));
  });

  it('cancel(name) returns true once, then false; false for unknown names and for a task that has started', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner, 'PATCH', '/users/1');
    const gated = new GatedTasks();
    tasks.addTaskWithOptions({ name: 'welcome' }, gated.task('welcome'));
    tasks.addTaskWithOptions({ name: 'sync' }, gated.task('sync'));

    expect(tasks.cancel('welcome')).toBe(true);
    expect(tasks.cancel('welcome')).toBe(false);
    expect(tasks.cancel('unknown')).toBe(false);
    expect(of('onTaskCancelled')).toStrictEqual([eventsOf('PATCH', '/users/1')('welcome', [], { reason: 'cancelled' })]);
    expect(runner.stats()).toEqual(stats({ queued: 1, cancelled: 1 }));

    succeed(tasks);
    await waitFor('the sync task to start', () => gated.started.length === 1);
    expect(tasks.cancel('sync')).toBe(false);
    gated.open('sync');
    await idle(runner);
    expect(tasks.cancel('sync')).toBe(false);
    expect(gated.started).toEqual(['sync']);
    expect(of('onTaskCancelled')).toHaveLength(1);
    expect(runner.stats()).toEqual(stats({ succeeded: 1, cancelled: 1 }));
  });

  it('cancels a task that waits for a concurrency slot; the slot passes on', async () => {
    const runner = new TaskRunner({ concurrency: 1 });
    const gated = new GatedTasks();
    const holder = ownedTasks(runner, 'POST', '/holder');
    holder.addTask(gated.task('holder'));
    succeed(holder);
    await waitFor('the holder to start', () => gated.started.length === 1);
    const tasks = ownedTasks(runner, 'POST', '/waiting');
    tasks.addTaskWithOptions({ name: 'waits' }, gated.task('waits'));
    tasks.addTask(gated.task('after'));
    succeed(tasks);
    await flush();
    expect(runner.stats()).toEqual(stats({ queued: 2, running: 1 }));

    expect(tasks.cancel('waits')).toBe(true);
    expect(runner.stats()).toEqual(stats({ queued: 1, running: 1, cancelled: 1 }));
    gated.open('holder', 'after');
    await idle(runner);
    expect(gated.started).toEqual(['holder', 'after']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, cancelled: 1 }));
  });

  it('keeps names per request: the same name in two requests runs in both', async () => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner(hooks);
    const ran: string[] = [];
    const requests = [ownedTasks(runner, 'POST', '/one'), ownedTasks(runner, 'POST', '/two')];
    for (const tasks of requests) {
      tasks.addTaskWithOptions({ name: 'sync' }, (_context, path: string) => void ran.push(path), tasks.origin.path);
    }
    expect(requests[0].cancel('sync')).toBe(true);
    requests[0].addTaskWithOptions({ name: 'sync' }, (_context, path: string) => void ran.push(path), '/one again');
    for (const tasks of requests) succeed(tasks);
    await idle(runner);
    expect(ran).toEqual(['/one again', '/two']);
    expect(of('onTaskCancelled').map(({ path, reason }) => [path, reason])).toEqual([['/one', 'cancelled']]);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, cancelled: 1 }));
  });
});

describe('addTaskWithOptions misuse', () => {
  const valid = { name: 'keep' };
  // Which timeouts are valid is checkTimeout's, in runner-options.spec.ts: here, that the option is named and nothing queued.
  it.each([
    ['options null', null, 'expects an options object first, got null.'],
    ['options undefined', undefined, 'expects an options object first, got undefined (undefined).'],
    ['options a string', 'keep', 'expects an options object first, got a string ("keep").'],
    ['options an array', [], 'expects an options object first, got an array.'],
    ['an empty name', { name: '' }, 'option "name" must be a non-empty string, got a string ("").'],
    ['a numeric name', { name: 7 }, 'option "name" must be a non-empty string, got number (7).'],
    ['a non-boolean always', { ...valid, always: 'yes' }, 'option "always" must be a boolean, got a string ("yes").'],
    [
      'timeout 0',
      { ...valid, timeout: 0 },
      'option "timeout" must be a positive number of milliseconds, at most 2147483647, or Infinity; got number (0).',
    ],
    ['timeout NaN', { ...valid, timeout: NaN }, 'option "timeout" must be a positive number'],
  ])('throws a TypeError for %s, naming the option, and queues or replaces nothing', async (_, options, message) => {
    const { hooks, sequence } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    tasks.addTaskWithOptions(valid, () => void ran.push('kept'));
    const badTask = jest.fn();

    expect(() => tasks.addTaskWithOptions(options as BackgroundTaskOptions, badTask)).toThrow(TypeError);
    expect(() => tasks.addTaskWithOptions(options as BackgroundTaskOptions, badTask)).toThrow(message);
    expect(runner.stats()).toEqual(stats({ queued: 1 }));
    expect(sequence()).toEqual(['onTaskQueued keep']);

    succeed(tasks);
    await idle(runner);
    expect(ran).toEqual(['kept']);
    expect(badTask).not.toHaveBeenCalled();
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it('throws a TypeError for a task that is not a function, and does not replace the task of that name', async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = ownedTasks(runner);
    tasks.addTaskWithOptions(valid, () => undefined);
    expect(() => tasks.addTaskWithOptions(valid, 42 as never)).toThrow(
      new TypeError('BackgroundTasks.addTaskWithOptions() expects a function as its second argument, got number (42).'),
    );
    expect(runner.stats()).toEqual(stats({ queued: 1 }));
    expect(sequence()).toEqual(['onTaskQueued keep']);
    expect(tasks.cancel('keep')).toBe(true);
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
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const call = () => tasks.addTask(value as never);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(named);
    expect(runner.stats().queued).toBe(0);

    // Also once a runner is attached, where addTask would start a run.
    succeed(tasks);
    expect(call).toThrow(TypeError);
    expect(runner.stats().queued).toBe(0);
    expect(tasks.batch.current).toBeUndefined();
    await flush();
    expect(watched.error).not.toHaveBeenCalled();
  });

  it('queues nothing for a bad call in between good ones', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: number[] = [];
    tasks.addTask((n: number) => void ran.push(n), 1);
    expect(() => tasks.addTask(42 as never)).toThrow(TypeError);
    tasks.addTask((n: number) => void ran.push(n), 2);
    expect(runner.stats().queued).toBe(2);
    succeed(tasks);
    await batchDone(tasks);
    await flush();
    expect(ran).toEqual([1, 2]);
    expect(watched.error).not.toHaveBeenCalled();
  });
});

describe('misuse hints', () => {
  it.each([
    ['nmae', 'BackgroundTasks.addTaskWithOptions(): unknown option "nmae". Did you mean "name"?'],
    ['alwyas', 'BackgroundTasks.addTaskWithOptions(): unknown option "alwyas". Did you mean "always"?'],
    ['retries', 'BackgroundTasks.addTaskWithOptions(): unknown option "retries"; the options are name, always, timeout.'],
  ])('rejects the unknown task option %p, naming the closest, and queues nothing', (key, message) => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const call = () => tasks.addTaskWithOptions({ [key]: true }, () => undefined);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
    expect(runner.stats().queued).toBe(0);
  });

  it.each([
    ['undefined (a sync function called)', undefined],
    ['a promise (an async function called)', Promise.resolve()],
  ])('says the function was probably called when addTask gets %s', (_what, value) => {
    const tasks = ownedTasks(new TaskRunner());
    expect(() => tasks.addTask(value as never)).toThrow(
      'Did you call the function instead of passing it? Write addTask(fn, ...args), with fn not called.',
    );
    expect(() => tasks.addTaskWithOptions({}, value as never)).toThrow(
      'Did you call the function instead of passing it? Write addTaskWithOptions(options, fn, ...args), with fn not called.',
    );
  });

  it('gives no such hint for other values', () => {
    const tasks = ownedTasks(new TaskRunner());
    expect(() => tasks.addTask(42 as never)).toThrow(
      new TypeError('BackgroundTasks.addTask() expects a function as its first argument, got number (42).'),
    );
  });
});

describe('finish() and runInline()', () => {
  it('finish() hands the tasks over once: a second call, whatever its outcome, changes nothing', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    tasks.addTask(() => void ran.push('plain'));
    tasks.settle(true);
    tasks.settle(false);
    await idle(runner);
    expect(ran).toEqual(['plain']);
    expect(tasks.batch.outcome).toBe('succeeded');
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it.each([
    [true, ['plain', 'always'], { succeeded: 2 }],
    [false, ['always'], { succeeded: 1, dropped: 1 }],
  ])('runInline(%s) resolves once the tasks that run have ended', async (succeeded, expected, counts) => {
    const runner = new TaskRunner({ mode: 'inline' });
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const gate = deferred();
    tasks.addTask(async () => {
      await gate.promise;
      ran.push('plain');
    });
    tasks.addTaskWithOptions({ always: true }, async () => {
      await flush(1);
      ran.push('always');
    });
    const inline = track(tasks.runInline(succeeded));
    await flush();
    if (succeeded) expect(inline.settled).toBe(false);
    gate.resolve();
    await waitFor('runInline() to resolve', () => inline.settled);
    expect(ran).toEqual(expected);
    expect(runner.stats()).toEqual(stats(counts));
  });
});
