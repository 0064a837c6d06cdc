import { jest } from '@jest/globals';
import { HttpStatus, Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { BackgroundTasksQueueFullException } from '../../lib/exceptions/background-tasks-queue-full.exception.js';
import { HOOK_NAMES, type HookName } from '../../lib/core/runner-options.js';
import type { HttpBackgroundTasks as BackgroundTasks } from '../../lib/http/http-background-tasks.js';
import type { BackgroundTaskEvent, BackgroundTaskHook, BackgroundTaskOptions } from '../../lib/interfaces/index.js';
import { TaskRunner as BackgroundTaskRunner } from '../../lib/core/task-runner.js';
import { deny, failHandler, requestTasks, respond } from '../utils/request-tasks.js';
import { flush } from '../utils/process-watch.js';
import { stats } from '../utils/task-record.js';
import { watchEachTest } from '../utils/unit-watch.js';
import { deferred, track, waitFor } from '../utils/wait-for.js';

/**
 * Unit tests of the execution features (issue #4): concurrency, maxQueued and
 * overflow, timeouts, names, concurrent requests, hooks and stats, always
 * tasks, mode 'disabled', async context, shutdown expiry and option checks.
 * The runner is used directly, without Nest or HTTP.
 */

/** Resolves when the signal is aborted. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Async tasks that record their start and end, and end only when the test
 * opens their gate. Each task function is named after its task, so events
 * carry that name.
 */
class GatedTasks {
  readonly started: string[] = [];
  readonly ended: string[] = [];
  maxRunning = 0;
  private running = 0;
  private readonly gates = new Map<string, ReturnType<typeof deferred>>();

  /** `onStart` runs inside each task as it starts, when the most tasks run. */
  constructor(private readonly onStart?: () => void) {}

  task(name: string): () => Promise<void> {
    const fn = async () => {
      this.started.push(name);
      this.maxRunning = Math.max(this.maxRunning, ++this.running);
      this.onStart?.();
      await this.gate(name).promise;
      this.running--;
      this.ended.push(name);
    };
    return Object.defineProperty(fn, 'name', { value: name });
  }

  open(...names: string[]): void {
    for (const name of names) this.gate(name).resolve(undefined);
  }

  private gate(name: string): ReturnType<typeof deferred> {
    let gate = this.gates.get(name);
    if (gate === undefined) this.gates.set(name, (gate = deferred()));
    return gate;
  }
}

type HookCall = [HookName, BackgroundTaskEvent];

/**
 * Every lifecycle hook, recording its calls in one list, in order. With
 * `fails`, each hook also throws, or returns a rejected promise, afterwards.
 */
function recordHooks(fails?: 'throws' | 'rejects') {
  const calls: HookCall[] = [];
  const hooks: Partial<Record<HookName, BackgroundTaskHook>> = {};
  for (const hook of HOOK_NAMES) {
    hooks[hook] = (event) => {
      calls.push([hook, event]);
      if (fails === 'throws') throw new Error(`${hook} broke`);
      if (fails === 'rejects') return flush(1).then(() => Promise.reject(new Error(`${hook} broke`)));
    };
  }
  /** The events one hook received. */
  const of = (hook: HookName) => calls.filter(([name]) => name === hook).map(([, event]) => event);
  /** "hook name" for each call, for order checks that leave the events out. */
  const sequence = () => calls.map(([hook, event]) => `${hook} ${event.name}`);
  return { calls, hooks, of, sequence };
}

/** Builds the events of one request, for exact comparisons. */
function eventsOf(method: string, path: string) {
  return (name: string, args: unknown[] = [], details: Partial<BackgroundTaskEvent> = {}): BackgroundTaskEvent => ({
    name,
    args,
    transport: 'http',
    method,
    path,
    ...details,
  });
}

/** Checks the duration of every event that has one: a number, never negative. */
function expectSaneDurations(calls: HookCall[]): void {
  for (const [, { duration }] of calls) {
    if (duration !== undefined) expect(duration).toBeGreaterThanOrEqual(0);
  }
}

const watched = watchEachTest();

describe('concurrency', () => {
  it('runs at most `concurrency` tasks at once across requests; waiting tasks start FIFO as slots free; a request keeps its order', async () => {
    const runningSamples: number[] = [];
    const runner = new BackgroundTaskRunner({ concurrency: 2 });
    const gated = new GatedTasks(() => runningSamples.push(runner.stats().running));
    const a = requestTasks(runner, 'POST', '/a');
    a.addTask(gated.task('a1'));
    a.addTask(gated.task('a2'));
    respond(a);
    for (const name of ['b1', 'c1', 'd1']) {
      const tasks = requestTasks(runner, 'POST', `/${name[0]}`);
      tasks.addTask(gated.task(name));
      respond(tasks);
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
    await runner.whenIdle();

    expect(gated.started).toEqual(['a1', 'b1', 'c1', 'd1', 'a2']);
    expect(gated.ended).toEqual(['b1', 'a1', 'c1', 'd1', 'a2']);
    expect(gated.maxRunning).toBe(2);
    expect(Math.max(...runningSamples)).toBe(2);
    expect(runningSamples).toHaveLength(5);
    expect(runner.stats()).toEqual(stats({ succeeded: 5 }));
  });
});

describe('maxQueued and overflow', () => {
  it("'reject' throws a 503 BackgroundTasksQueueFullException naming the task and maxQueued, and queues nothing", async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new BackgroundTaskRunner({ maxQueued: 2, ...hooks });
    const ran: string[] = [];
    const task = (name: string) => Object.defineProperty(() => void ran.push(name), 'name', { value: name });
    // Tasks of a request still in flight count as queued.
    const inFlight = requestTasks(runner, 'POST', '/a');
    inFlight.addTask(task('a1'));
    inFlight.addTask(task('a2'));
    const other = requestTasks(runner, 'POST', '/b');

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
      expect(thrown).toBeInstanceOf(BackgroundTasksQueueFullException);
      const exception = thrown as BackgroundTasksQueueFullException;
      expect(exception.getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
      expect(exception.message).toBe(`Background task "${name}" was not accepted: the queue is full (maxQueued: 2).`);
    }
    expect(runner.stats()).toEqual(stats({ queued: 2 }));
    expect(sequence()).toEqual(['onTaskQueued a1', 'onTaskQueued a2']);

    respond(inFlight);
    respond(other);
    await runner.whenIdle();
    expect(ran).toEqual(['a1', 'a2']);
    // Once there is room again, tasks are accepted.
    other.addTask(task('b2'));
    await runner.whenIdle();
    expect(ran).toEqual(['a1', 'a2', 'b2']);
    expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
    expect(watched.warn).not.toHaveBeenCalled();
    expect(watched.error).not.toHaveBeenCalled();
  });

  it("'drop-newest' drops the task being added, with a warning, and addTask returns normally", async () => {
    const { hooks, calls } = recordHooks();
    const runner = new BackgroundTaskRunner({ maxQueued: 2, overflow: 'drop-newest', ...hooks });
    const ran: string[] = [];
    const inFlight = requestTasks(runner, 'POST', '/a');
    inFlight.addTask(function a1() {
      ran.push('a1');
    });
    inFlight.addTask(function a2() {
      ran.push('a2');
    });
    const other = requestTasks(runner, 'PUT', '/b');
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
    expect(watched.warnMessages()).toEqual(['Background task "b1" of PUT /b was dropped: the queue is full (maxQueued: 2).']);
    expect(runner.stats()).toEqual(stats({ queued: 2, dropped: 1 }));

    respond(inFlight);
    respond(other);
    await runner.whenIdle();
    expect(ran).toEqual(['a1', 'a2']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, dropped: 1 }));
  });

  it("'drop-oldest' drops the oldest queued task, of any request, even one whose response is still in flight", async () => {
    const { hooks, sequence, of } = recordHooks();
    const runner = new BackgroundTaskRunner({ maxQueued: 2, overflow: 'drop-oldest', ...hooks });
    const ran: string[] = [];
    const inFlight = requestTasks(runner, 'POST', '/a');
    inFlight.addTask(function a1() {
      ran.push('a1');
    });
    inFlight.addTask(function a2() {
      ran.push('a2');
    });
    const other = requestTasks(runner, 'PUT', '/b');
    other.addTask(function b1() {
      ran.push('b1');
    });

    expect(sequence()).toEqual(['onTaskQueued a1', 'onTaskQueued a2', 'onTaskDropped a1', 'onTaskQueued b1']);
    expect(of('onTaskDropped')).toStrictEqual([eventsOf('POST', '/a')('a1', [], { reason: 'overflow' })]);
    expect(watched.warnMessages()).toEqual(['Background task "a1" of POST /a was dropped: the queue is full (maxQueued: 2).']);
    expect(runner.stats()).toEqual(stats({ queued: 2, dropped: 1 }));

    respond(inFlight);
    respond(other);
    await runner.whenIdle();
    expect(ran).toEqual(['a2', 'b1']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, dropped: 1 }));
  });

  it("'drop-oldest' drops a task that waits for a concurrency slot, and the slot passes on", async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new BackgroundTaskRunner({ concurrency: 1, maxQueued: 2, overflow: 'drop-oldest', ...hooks });
    const gated = new GatedTasks();
    const holder = requestTasks(runner, 'POST', '/x');
    holder.addTask(gated.task('x1'));
    respond(holder);
    await waitFor('x1 to start', () => gated.started.length === 1);
    const waiting = requestTasks(runner, 'POST', '/y');
    waiting.addTask(gated.task('y1'));
    respond(waiting);
    await flush();
    expect(runner.stats()).toEqual(stats({ queued: 1, running: 1 }));

    const inFlight = requestTasks(runner, 'POST', '/z');
    inFlight.addTask(gated.task('z1'));
    inFlight.addTask(gated.task('z2'));
    expect(watched.warnMessages()).toEqual(['Background task "y1" of POST /y was dropped: the queue is full (maxQueued: 2).']);
    expect(runner.stats()).toEqual(stats({ queued: 2, running: 1, dropped: 1 }));

    gated.open('x1', 'z1', 'z2');
    respond(inFlight);
    await runner.whenIdle();
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

describe('timeouts', () => {
  it.each(['resolves', 'rejects'] as const)(
    'aborts the signal of an overrunning task with a TimeoutError, reports it, starts the next task at the deadline, and reports nothing when it later %s',
    async (settle) => {
      const { hooks, calls, of, sequence } = recordHooks();
      const runner = new BackgroundTaskRunner(hooks);
      const tasks = requestTasks(runner, 'POST', '/reports');
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
      respond(tasks);

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
      const reported = sequence();
      expect(reported).toEqual([
        'onTaskQueued render',
        'onTaskQueued upload',
        'onTaskStarted render',
        'onTaskTimedOut render',
        'onTaskStarted upload',
        'onTaskSucceeded upload',
      ]);
      // A task that timed out no longer counts as running.
      expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1 }));

      gate.resolve();
      await waitFor('render to settle late', () => overrunEnded);
      await flush();
      expect(sequence()).toEqual(reported);
      expect(watched.error).toHaveBeenCalledTimes(1);
      expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1 }));
    },
  );

  it('applies the module taskTimeout to plain addTask tasks, which have no signal', async () => {
    const { hooks, of } = recordHooks();
    const runner = new BackgroundTaskRunner({ taskTimeout: 20, ...hooks });
    const tasks = requestTasks(runner, 'DELETE', '/cache');
    const gate = deferred();
    const events: string[] = [];
    tasks.addTask(async function purge(region: string) {
      events.push(`purge:${region}`);
      await gate.promise;
    }, 'eu');
    tasks.addTask(function next() {
      events.push('next');
    });
    respond(tasks);

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
    const runner = new BackgroundTaskRunner({ taskTimeout: 40, ...hooks });
    const tasks = requestTasks(runner, 'POST', '/p');
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
    respond(tasks);

    await waitFor('two timeouts', () => of('onTaskTimedOut').length === 2);
    expect(of('onTaskTimedOut').map((event) => event.name)).toEqual(['short', 'default']);
    expect(watched.errorMessages()).toEqual([
      'Background task "short" of POST /p timed out after 20 ms.',
      'Background task "default" of POST /p timed out after 40 ms.',
    ]);
    expect(signals.get('unbounded')!.aborted).toBe(false);
    expect(runner.stats()).toEqual(stats({ running: 1, timedOut: 2 }));

    gate.resolve();
    await runner.whenIdle();
    expect(of('onTaskSucceeded').map((event) => event.name)).toEqual(['unbounded']);
    expect(signals.get('unbounded')!.aborted).toBe(false);
    expect(runner.stats()).toEqual(stats({ succeeded: 1, timedOut: 2 }));
  });

  it('does not abort a task that finishes within its timeout', async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const tasks = requestTasks(runner, 'POST', '/p');
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
    respond(tasks);

    await runner.whenIdle();
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
    expect(runner.stats()).toEqual(stats({ succeeded: 1, timedOut: 1 }));
  });
});

describe('names', () => {
  it("replaces a queued task of the same name: the old one is cancelled ('replaced'), the new one runs at the end", async () => {
    const { hooks, calls } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const tasks = requestTasks(runner, 'POST', '/digest');
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
    respond(tasks);
    await runner.whenIdle();
    expect(ran).toEqual(['other', 'digest v2']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, cancelled: 1 }));
  });

  it('only queues the new task when the one of the same name has already started', async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const tasks = requestTasks(runner);
    const gated = new GatedTasks();
    tasks.addTaskWithOptions({ name: 'sync' }, gated.task('first'));
    respond(tasks);
    await waitFor('the first task to start', () => gated.started.length === 1);
    tasks.addTaskWithOptions({ name: 'sync' }, gated.task('second'));
    gated.open('first', 'second');
    await runner.whenIdle();
    expect(gated.ended).toEqual(['first', 'second']);
    expect(sequence()).not.toContain('onTaskCancelled sync');
    expect(runner.stats()).toEqual(stats({ succeeded: 2 }));
  });

  it('cancel(name) returns true once, then false; false for unknown names and for a task that has started', async () => {
    const { hooks, of } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const tasks = requestTasks(runner, 'PATCH', '/users/1');
    const gated = new GatedTasks();
    tasks.addTaskWithOptions({ name: 'welcome' }, gated.task('welcome'));
    tasks.addTaskWithOptions({ name: 'sync' }, gated.task('sync'));

    expect(tasks.cancel('welcome')).toBe(true);
    expect(tasks.cancel('welcome')).toBe(false);
    expect(tasks.cancel('unknown')).toBe(false);
    expect(of('onTaskCancelled')).toStrictEqual([eventsOf('PATCH', '/users/1')('welcome', [], { reason: 'cancelled' })]);
    expect(runner.stats()).toEqual(stats({ queued: 1, cancelled: 1 }));

    respond(tasks);
    await waitFor('the sync task to start', () => gated.started.length === 1);
    expect(tasks.cancel('sync')).toBe(false);
    gated.open('sync');
    await runner.whenIdle();
    expect(tasks.cancel('sync')).toBe(false);
    expect(gated.started).toEqual(['sync']);
    expect(of('onTaskCancelled')).toHaveLength(1);
    expect(runner.stats()).toEqual(stats({ succeeded: 1, cancelled: 1 }));
  });

  it('cancels a task that waits for a concurrency slot; the slot passes on', async () => {
    const runner = new BackgroundTaskRunner({ concurrency: 1 });
    const gated = new GatedTasks();
    const holder = requestTasks(runner, 'POST', '/holder');
    holder.addTask(gated.task('holder'));
    respond(holder);
    await waitFor('the holder to start', () => gated.started.length === 1);
    const tasks = requestTasks(runner, 'POST', '/waiting');
    tasks.addTaskWithOptions({ name: 'waits' }, gated.task('waits'));
    tasks.addTask(gated.task('after'));
    respond(tasks);
    await flush();
    expect(runner.stats()).toEqual(stats({ queued: 2, running: 1 }));

    expect(tasks.cancel('waits')).toBe(true);
    expect(runner.stats()).toEqual(stats({ queued: 1, running: 1, cancelled: 1 }));
    gated.open('holder', 'after');
    await runner.whenIdle();
    expect(gated.started).toEqual(['holder', 'after']);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, cancelled: 1 }));
  });

  it('keeps names per request: the same name in two requests runs in both', async () => {
    const { hooks, of } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const ran: string[] = [];
    const requests = [requestTasks(runner, 'POST', '/one'), requestTasks(runner, 'POST', '/two')];
    for (const tasks of requests) {
      tasks.addTaskWithOptions({ name: 'sync' }, (_context, path: string) => void ran.push(path), tasks.origin.path);
    }
    expect(requests[0].cancel('sync')).toBe(true);
    requests[0].addTaskWithOptions({ name: 'sync' }, (_context, path: string) => void ran.push(path), '/one again');
    for (const tasks of requests) respond(tasks);
    await runner.whenIdle();
    expect(ran).toEqual(['/one again', '/two']);
    expect(of('onTaskCancelled').map(({ path, reason }) => [path, reason])).toEqual([['/one', 'cancelled']]);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, cancelled: 1 }));
  });
});

describe('concurrent = true', () => {
  it("starts all of a request's async tasks before any of them finishes", async () => {
    const runner = new BackgroundTaskRunner();
    const gated = new GatedTasks();
    const tasks = requestTasks(runner);
    tasks.concurrent = true;
    for (const name of ['t1', 't2', 't3']) tasks.addTask(gated.task(name));
    respond(tasks);
    await waitFor('all three to start', () => gated.started.length === 3);
    expect(gated.started).toEqual(['t1', 't2', 't3']);
    expect(gated.ended).toEqual([]);
    expect(runner.stats()).toEqual(stats({ running: 3 }));
    gated.open('t3', 't2', 't1');
    await runner.whenIdle();
    expect(gated.ended).toEqual(['t3', 't2', 't1']);
    expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
  });

  it('still runs them one at a time, in order, under concurrency: 1', async () => {
    const runner = new BackgroundTaskRunner({ concurrency: 1 });
    const gated = new GatedTasks();
    const tasks = requestTasks(runner);
    tasks.concurrent = true;
    const names = ['t1', 't2', 't3'];
    for (const name of names) tasks.addTask(gated.task(name));
    respond(tasks);
    for (const [index, name] of names.entries()) {
      await waitFor(`${name} to start`, () => gated.started.length === index + 1);
      await flush(); // every chance for the next one to start too early
      expect(gated.started).toEqual(names.slice(0, index + 1));
      expect(runner.stats()).toEqual(stats({ queued: 2 - index, running: 1, succeeded: index }));
      gated.open(name);
    }
    await runner.whenIdle();
    expect(gated.maxRunning).toBe(1);
    expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
  });
});

describe('hooks and stats', () => {
  /**
   * One task for each way a task can end: succeeded, failed, timed out,
   * cancelled, and dropped (by a request that a guard denied).
   */
  async function runOneOfEachOutcome(runner: BackgroundTaskRunner): Promise<{ failure: Error }> {
    const failure = new Error('card declined');
    const order = requestTasks(runner, 'POST', '/orders/42');
    // Named after the function, for want of a name option.
    order.addTaskWithOptions({}, function sendReceipt(_context, email: string) {}, 'a@b.c');
    order.addTask(
      function chargeCard(id: number) {
        throw failure;
      },
      42,
    );
    order.addTaskWithOptions({ timeout: 20 }, ({ signal }, ms: number) => aborted(signal), 5);
    // The name option wins over the function's name.
    order.addTaskWithOptions({ name: 'reminder' }, function remind(_context, when: string) {}, 'tomorrow');
    expect(order.cancel('reminder')).toBe(true);
    const denied = requestTasks(runner, 'GET', '/admin');
    denied.addTask(function audit(user: string) {}, 'eve');
    deny(denied);
    respond(order);
    await runner.whenIdle();
    return { failure };
  }

  it('calls the hooks in order, with full events, for tasks that succeed, fail, time out, are cancelled and dropped; stats() counts them', async () => {
    const { hooks, calls } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
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
      const runner = new BackgroundTaskRunner(hooks);
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

  it('whenIdle() waits for the tasks of a request whose response is still in flight', async () => {
    const runner = new BackgroundTaskRunner();
    await runner.whenIdle(); // nothing added yet
    const tasks = requestTasks(runner);
    const ran: string[] = [];
    tasks.addTask(async () => {
      await flush(1);
      ran.push('task');
    });
    const idle = runner.whenIdle();
    const state = track(idle);
    await flush();
    expect(state.settled).toBe(false);
    expect(runner.stats()).toEqual(stats({ queued: 1 }));

    respond(tasks);
    await idle;
    expect(ran).toEqual(['task']);
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });
});

describe('always tasks of failed requests', () => {
  it.each([
    ['whose handler failed', failHandler],
    ['that a guard denied (a 403)', deny],
  ])('for a request %s, runs only the always tasks and drops the others, also those added afterwards', async (_, fail) => {
    const { hooks, of } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const tasks = requestTasks(runner, 'POST', '/login');
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
    await runner.whenIdle();
    expect(ran).toEqual(['audit', 'alert']);

    tasks.addTask(function late() {
      ran.push('late');
    });
    tasks.addTaskWithOptions({ name: 'lateAlways', always: true }, record);
    await runner.whenIdle();
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
    const runner = new BackgroundTaskRunner({ mode: 'disabled', ...hooks });
    const ran: string[] = [];
    const record = ({ name }: { name: string }) => void ran.push(name);
    const succeeded = requestTasks(runner, 'POST', '/ok');
    succeeded.addTask(function plain() {
      ran.push('plain');
    });
    succeeded.addTaskWithOptions({ name: 'always', always: true }, record);
    const failed = requestTasks(runner, 'POST', '/denied');
    failed.addTaskWithOptions({ name: 'auditDenied', always: true }, record);
    respond(succeeded);
    deny(failed);
    succeeded.addTaskWithOptions({ name: 'afterwards' }, record);
    await runner.whenIdle();
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
      const runner = new BackgroundTaskRunner();
      const seen = new Map<string, number | undefined>();
      const record = async (label: string) => {
        await flush(1); // the next task starts from a promise continuation, not from the caller
        seen.set(label, als.getStore()?.id);
      };
      const add = (tasks: BackgroundTasks, label: string) =>
        method === 'addTask'
          ? tasks.addTask(record, label)
          : tasks.addTaskWithOptions({}, (_context, l: string) => record(l), label);

      const requests = [1, 2].map((id) => {
        const tasks = requestTasks(runner, 'POST', `/requests/${id}`);
        als.run({ id }, () => {
          add(tasks, `${id}:first`);
          add(tasks, `${id}:second`);
        });
        return tasks;
      });
      expect(als.getStore()).toBeUndefined();
      // Run from yet another context: the tasks must not see this one.
      als.run({ id: 0 }, () => requests.forEach(respond));
      await runner.whenIdle();

      expect(Object.fromEntries(seen)).toEqual({ '1:first': 1, '1:second': 1, '2:first': 2, '2:second': 2 });
    },
  );
});

describe('shutdown timeout', () => {
  it('aborts the signals of running tasks with an AbortError, drops the queued ones, and names them all in one warning', async () => {
    const { hooks, of } = recordHooks();
    const runner = new BackgroundTaskRunner({ shutdownTimeout: 100, ...hooks });
    const reasons = new Map<string, unknown>();
    const untilAborted = async ({ signal, name }: { signal: AbortSignal; name: string }) => {
      await aborted(signal);
      reasons.set(name, signal.reason);
    };
    const first = requestTasks(runner, 'POST', '/x');
    first.addTaskWithOptions({ name: 'a' }, untilAborted);
    first.addTaskWithOptions({ name: 'b' }, untilAborted);
    const inFlight = requestTasks(runner, 'PUT', '/y');
    inFlight.addTaskWithOptions({ name: 'c' }, untilAborted);
    const second = requestTasks(runner, 'DELETE', '/z');
    second.addTaskWithOptions({ name: 'd' }, untilAborted);
    respond(first);
    respond(second);
    await waitFor('a and d to start', () => runner.stats().running === 2);

    await runner.beforeApplicationShutdown();
    expect(watched.warn).not.toHaveBeenCalled();
    expect(reasons.size).toBe(0);
    await runner.onApplicationShutdown();

    expect(watched.warnMessages()).toEqual([
      'Shutdown timeout of 100 ms expired; running tasks have their signal aborted, queued ones are dropped: ' +
        '"a" (running, POST /x), "d" (running, DELETE /z), "b" (queued, POST /x), "c" (queued, PUT /y)',
    ]);
    await runner.whenIdle();
    expect([...reasons.keys()]).toEqual(['a', 'd']);
    for (const reason of reasons.values()) {
      expect(reason).toBeInstanceOf(DOMException);
      expect((reason as DOMException).name).toBe('AbortError');
    }
    expect(of('onTaskDropped')).toStrictEqual([
      eventsOf('POST', '/x')('b', [], { reason: 'shutdown' }),
      eventsOf('PUT', '/y')('c', [], { reason: 'shutdown' }),
    ]);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, dropped: 2 }));
  });
});

describe('addTaskWithOptions misuse', () => {
  const valid = { name: 'keep' };
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
    ['timeout -1', { ...valid, timeout: -1 }, 'option "timeout" must be a positive number'],
    ['timeout NaN', { ...valid, timeout: NaN }, 'option "timeout" must be a positive number'],
    ["timeout '5'", { ...valid, timeout: '5' }, 'option "timeout" must be a positive number'],
    ['timeout 2 ** 31', { ...valid, timeout: 2 ** 31 }, 'option "timeout" must be a positive number'],
  ])('throws a TypeError for %s, naming the option, and queues or replaces nothing', async (_, options, message) => {
    const { hooks, sequence } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const tasks = requestTasks(runner);
    const ran: string[] = [];
    tasks.addTaskWithOptions(valid, () => void ran.push('kept'));
    const badTask = jest.fn();

    expect(() => tasks.addTaskWithOptions(options as BackgroundTaskOptions, badTask)).toThrow(TypeError);
    expect(() => tasks.addTaskWithOptions(options as BackgroundTaskOptions, badTask)).toThrow(message);
    expect(runner.stats()).toEqual(stats({ queued: 1 }));
    expect(sequence()).toEqual(['onTaskQueued keep']);

    respond(tasks);
    await runner.whenIdle();
    expect(ran).toEqual(['kept']);
    expect(badTask).not.toHaveBeenCalled();
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it('throws a TypeError for a task that is not a function, and does not replace the task of that name', async () => {
    const { hooks, sequence } = recordHooks();
    const runner = new BackgroundTaskRunner(hooks);
    const tasks = requestTasks(runner);
    tasks.addTaskWithOptions(valid, () => undefined);
    expect(() => tasks.addTaskWithOptions(valid, 42 as never)).toThrow(
      new TypeError('BackgroundTasks.addTaskWithOptions() expects a function as its second argument, got number (42).'),
    );
    expect(runner.stats()).toEqual(stats({ queued: 1 }));
    expect(sequence()).toEqual(['onTaskQueued keep']);
    expect(tasks.cancel('keep')).toBe(true);
  });
});
