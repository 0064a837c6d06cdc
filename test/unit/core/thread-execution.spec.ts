import { context, trace } from '@opentelemetry/api';
import { resolveOptions } from '../../../lib/core/runner-options.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import { BackgroundTasksOverflowException } from '../../../lib/exceptions/background-tasks-overflow.exception.js';
import type { BackgroundTasksModuleOptions } from '../../../lib/interfaces/index.js';
import { openTelemetry } from '../../../lib/opentelemetry/opentelemetry-telemetry.js';
import * as threads from '../../fixtures/thread-tasks.mjs';
import { OtelSdk } from '../../utils/otel-sdk.js';
import { batchDone, ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { stats } from '../../utils/task-record.js';
import { recordHooks } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { waitFor, within } from '../../utils/wait-for.js';

/**
 * Thread tasks on a TaskRunner without Nest, in real worker threads: the
 * tasks of test/fixtures/thread-tasks.mjs, whose side effects go to shared
 * memory that the test reads while the thread runs.
 */

const watched = watchEachTest();
const runners: TaskRunner[] = [];

/** A runner whose pool is closed after the test. */
function threadRunner(options: BackgroundTasksModuleOptions = {}): TaskRunner {
  const runner = new TaskRunner({ shutdownTimeout: 0, ...options });
  runners.push(runner);
  return runner;
}

afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.onApplicationShutdown()));
});

/**
 * Waits, with a deadline, until `counter[0]` has not moved for 200 ms: a
 * thread stopped, seen from outside. A thread told to terminate stops at its
 * next instruction boundary, a moment later, so the first reads may still move.
 */
async function expectStopped(counter: Int32Array): Promise<void> {
  let last = Atomics.load(counter, 0);
  let since = Date.now();
  await waitFor('the thread to stop its work', () => {
    const now = Atomics.load(counter, 0);
    if (now !== last) [last, since] = [now, Date.now()];
    return Date.now() - since >= 200;
  });
}

/** `counter[0]` does not move for 200 ms: its thread was gone already. */
async function expectGone(counter: Int32Array): Promise<void> {
  const before = Atomics.load(counter, 0);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(Atomics.load(counter, 0)).toBe(before);
}

describe('order and outcome', () => {
  it("runs a request's thread tasks once each, in order, with their args, and reports them as any task", async () => {
    const { hooks, sequence, of } = recordHooks();
    const runner = threadRunner(hooks);
    const tasks = ownedTasks(runner);
    const log = threads.counter();
    tasks.addTask(threads.appendLater, log, 1, 30);
    tasks.addTask(threads.append, log, 2);
    tasks.addTask(threads.appendLater, log, 3, 10);
    expect(Atomics.load(log, 0)).toBe(0);

    succeed(tasks);
    await batchDone(tasks);

    expect([...log.subarray(0, 4)]).toEqual([3, 1, 2, 3]);
    expect(runner.stats()).toEqual(stats({ succeeded: 3 }));
    expect(sequence()).toEqual([
      ...['onTaskQueued appendLater', 'onTaskQueued append', 'onTaskQueued appendLater'],
      ...['onTaskStarted appendLater', 'onTaskSucceeded appendLater'],
      ...['onTaskStarted append', 'onTaskSucceeded append'],
      ...['onTaskStarted appendLater', 'onTaskSucceeded appendLater'],
    ]);
    expect(of('onTaskSucceeded')[1]).toMatchObject({ name: 'append', args: [log, 2], transport: 'http' });
    expect(watched.error).not.toHaveBeenCalled();
  });

  it('runs at most threads.maxThreads thread tasks at once, the others queued until a thread is free', async () => {
    const runner = threadRunner({ threads: { maxThreads: 2 } });
    const state = threads.counter(2);
    const owners = [0, 1, 2, 3].map(() => ownedTasks(runner));
    for (const tasks of owners) tasks.addTask(threads.overlap, state, 100);
    for (const tasks of owners) succeed(tasks);

    await waitFor('two thread tasks to run', () => runner.stats().running === 2);
    expect(runner.stats()).toMatchObject({ queued: 2, running: 2 });
    expect(runner.inspect(10).queued.tasks.map(({ name }) => name)).toEqual(['overlap', 'overlap']);
    await within('the tasks to end', runner.whenIdle());
    expect(runner.stats()).toEqual(stats({ succeeded: 4 }));
    expect(Atomics.load(state, 1)).toBe(2);
  });

  it('runs 1,000 small thread tasks of 20 requests exactly once each', async () => {
    const runner = threadRunner();
    const log = threads.counter(1000);
    for (let request = 0; request < 20; request++) {
      const tasks = ownedTasks(runner);
      for (let i = 0; i < 50; i++) tasks.addTask(threads.append, log, request * 50 + i);
      succeed(tasks);
    }
    await within('1,000 thread tasks to end', runner.whenIdle(), 60_000);

    expect(Atomics.load(log, 0)).toBe(1000);
    expect([...log.subarray(1)].sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
    expect(runner.stats()).toEqual(stats({ succeeded: 1000 }));
  }, 90_000);
});

describe('a thread task that fails', () => {
  it('fails its task when it throws, and the next task runs', async () => {
    const { hooks, of } = recordHooks();
    const runner = threadRunner(hooks);
    const tasks = ownedTasks(runner);
    const log = threads.counter();
    tasks.addTask(threads.fail, 'no thumbnail');
    tasks.addTask(threads.append, log, 7);
    succeed(tasks);
    await batchDone(tasks);

    expect(runner.stats()).toEqual(stats({ failed: 1, succeeded: 1 }));
    expect(of('onTaskFailed')[0].error).toMatchObject({ message: 'no thumbnail' });
    expect(watched.errorMessages()).toEqual([
      expect.stringMatching(/^Background task "fail" of POST \/orders\/42 failed: .*no thumbnail$/),
    ]);
    expect(log[1]).toBe(7);
  });

  it('fails only its own task when its thread exits, and the pool starts another thread', async () => {
    const { hooks, of } = recordHooks();
    const runner = threadRunner({ ...hooks, threads: { maxThreads: 1 } });
    const log = threads.counter();
    const tasks = ownedTasks(runner);
    tasks.concurrent = true;
    tasks.addTask(threads.exitThread, 3);
    tasks.addTask(threads.append, log, 1);
    tasks.addTask(threads.append, log, 2);
    succeed(tasks);
    await within('the tasks to end', runner.whenIdle());

    expect(runner.stats()).toEqual(stats({ failed: 1, succeeded: 2 }));
    expect(of('onTaskFailed').map(({ name, error }) => [name, String(error)])).toEqual([
      ['exitThread', 'Error: worker exited with code: 3'],
    ]);
    expect([...log.subarray(1, 3)].sort()).toEqual([1, 2]);
  });

  it('fails only its own task when its thread runs out of memory under resourceLimits', async () => {
    const { hooks, of } = recordHooks();
    const runner = threadRunner({ ...hooks, threads: { maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 16 } } });
    const log = threads.counter();
    const tasks = ownedTasks(runner);
    tasks.addTask(threads.hog);
    tasks.addTask(threads.append, log, 1);
    succeed(tasks);
    await within('the tasks to end', runner.whenIdle(), 30_000);

    expect(runner.stats()).toEqual(stats({ failed: 1, succeeded: 1 }));
    expect(of('onTaskFailed')[0].error).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    expect(log[1]).toBe(1);
  }, 40_000);

  it('logs a thread that fails between tasks, which no task hears of, and runs the next task on another', async () => {
    const runner = threadRunner({ threads: { maxThreads: 1 } });
    const log = threads.counter();
    const first = ownedTasks(runner);
    first.addTask(threads.throwLater, 'after its task');
    succeed(first);
    await batchDone(first);
    await waitFor('the thread to fail', () => watched.error.mock.calls.length > 0);
    expect(watched.error.mock.calls[0][0]).toBe(
      'A worker thread of thread tasks failed while it ran no task; the pool starts another when it needs one. ' +
        'If this repeats, check what the thread modules do when they load.',
    );

    const second = ownedTasks(runner);
    second.addTask(threads.append, log, 1);
    succeed(second);
    await batchDone(second);
    expect(runner.stats()).toEqual(stats({ succeeded: 2 }));
    expect(log[1]).toBe(1);
  });

  it('lets an idle thread finish what its task left pending', async () => {
    const runner = threadRunner();
    const log = threads.counter();
    const tasks = ownedTasks(runner);
    tasks.addTask(threads.appendAfterReturn, log, 5);
    succeed(tasks);
    await batchDone(tasks);
    await waitFor('the pending write', () => Atomics.load(log, 0) === 1);
    expect(log[1]).toBe(5);
  });

  it('fails when its module does not export it, saying so', async () => {
    const runner = threadRunner();
    const tasks = ownedTasks(runner);
    tasks.addTask(threads.unexported());
    succeed(tasks);
    await batchDone(tasks);

    expect(runner.stats()).toEqual(stats({ failed: 1 }));
    expect(watched.errorMessages()[0]).toContain('that module does not export it');
  });
});

describe('stopping the work of a thread', () => {
  it('reports a thread task timed out at its deadline and ends its thread, which stops its CPU work', async () => {
    const { hooks, sequence } = recordHooks();
    const runner = threadRunner(hooks);
    const tasks = ownedTasks(runner);
    const counter = threads.counter();
    const log = threads.counter();
    tasks.addTaskWithOptions({ name: 'spin', timeout: 300 }, threads.spin, counter);
    tasks.addTask(threads.append, log, 1);
    succeed(tasks);
    await waitFor('the thread to spin', () => Atomics.load(counter, 0) > 0);
    await batchDone(tasks);

    expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1 }));
    expect(sequence().slice(-3)).toEqual(['onTaskTimedOut spin', 'onTaskStarted append', 'onTaskSucceeded append']);
    expect(log[1]).toBe(1);
    expect(watched.warn).not.toHaveBeenCalled(); // not overdue: its thread ended at once
    await expectStopped(counter);
  });

  it('cancels a queued thread task, which never runs', async () => {
    const runner = threadRunner({ threads: { maxThreads: 1 } });
    const busy = threads.counter();
    const log = threads.counter();
    const first = ownedTasks(runner);
    first.addTaskWithOptions({ timeout: 200 }, threads.spin, busy);
    succeed(first);
    const second = ownedTasks(runner);
    second.addTaskWithOptions({ name: 'later' }, threads.append, log, 1);
    succeed(second);
    expect(runner.stats()).toMatchObject({ running: 1, queued: 1 });

    expect(second.cancel('later')).toBe(true);
    await within('the tasks to end', runner.whenIdle());
    expect(runner.stats()).toEqual(stats({ timedOut: 1, cancelled: 1 }));
    expect(Atomics.load(log, 0)).toBe(0);
  });

  it('cancels a running thread task: reported cancelled at once, its thread ended; the next task runs', async () => {
    const { hooks, sequence, of } = recordHooks();
    const runner = threadRunner({ ...hooks, threads: { maxThreads: 1 } });
    const tasks = ownedTasks(runner);
    const counter = threads.counter();
    const log = threads.counter();
    tasks.addTaskWithOptions({ name: 'thumbnail' }, threads.spin, counter);
    tasks.addTask(threads.append, log, 1);
    succeed(tasks);
    await waitFor('the thread to spin', () => Atomics.load(counter, 0) > 0);

    expect(tasks.cancel('thumbnail')).toBe(true);
    expect(runner.stats()).toMatchObject({ running: 0, overdue: 1, cancelled: 1 });
    expect(of('onTaskCancelled')).toEqual([expect.objectContaining({ name: 'thumbnail', reason: 'cancelled' })]);
    await batchDone(tasks);
    await within('the runner to be idle', runner.whenIdle());

    expect(runner.stats()).toEqual(stats({ cancelled: 1, succeeded: 1 }));
    expect(sequence().slice(-3)).toEqual(['onTaskCancelled thumbnail', 'onTaskStarted append', 'onTaskSucceeded append']);
    expect(log[1]).toBe(1);
    expect(tasks.cancel('thumbnail')).toBe(false);
    await expectStopped(counter);
  });

  it('does not cancel a running task on the event loop, which nothing could stop', async () => {
    const runner = threadRunner();
    const tasks = ownedTasks(runner);
    let finish!: () => void;
    tasks.addTaskWithOptions({ name: 'email' }, () => new Promise<void>((resolve) => (finish = resolve)));
    succeed(tasks);
    await waitFor('the task to start', () => runner.stats().running === 1);

    expect(tasks.cancel('email')).toBe(false);
    finish();
    await batchDone(tasks);
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it('ends busy threads at the shutdown deadline, and closes the pool', async () => {
    const runner = threadRunner({ shutdownTimeout: 300, threads: { maxThreads: 2 } });
    const counters = [threads.counter(), threads.counter()];
    for (const counter of counters) {
      const tasks = ownedTasks(runner);
      tasks.addTask(threads.spin, counter);
      succeed(tasks);
    }
    await waitFor('both threads to spin', () => counters.every((counter) => Atomics.load(counter, 0) > 0));

    await within('shutdown', runner.onApplicationShutdown());
    expect(watched.warnMessages()).toEqual([expect.stringContaining('"spin"')]);
    await within('the aborted tasks to end', runner.whenIdle());
    expect(runner.stats()).toEqual(stats({ failed: 2 }));
    // Shutdown has waited for the threads to exit, not only told them to.
    for (const counter of counters) await expectGone(counter);
  });
});

describe('arguments', () => {
  it('rejects at addTask() what structured clone would not carry as it is, naming where', () => {
    const tasks = ownedTasks(threadRunner());
    const log = threads.counter();
    class Thumbnail {}
    expect(() => tasks.addTask(threads.receive, log, new Map([['a', 1]]), new Date(), new Thumbnail() as Uint8Array)).toThrow(
      new TypeError(
        'BackgroundTasks: "receive" is a thread task, whose arguments are copied to a worker thread by structured clone, ' +
          'but argument 4 is a Thumbnail, which would not arrive as it is. ' +
          'Pass data: primitives, arrays, plain objects, Dates, Maps, Sets, Buffers; ids rather than services or entities.',
      ),
    );
    const withCallback = new Map([['a', (() => 1) as unknown as number]]);
    expect(() => tasks.addTask(threads.receive, log, withCallback, new Date(), new Uint8Array(1))).toThrow(
      'argument 2: [0][1] is a function',
    );
    expect(tasks.batch.unfinished).toBe(0);
  });

  it('copies Maps and Dates, and moves the buffers of a task declared with transfer', async () => {
    const runner = threadRunner();
    const tasks = ownedTasks(runner);
    const out = threads.counter();
    const image = Buffer.alloc(64 * 1024, 1);
    tasks.addTask(threads.receive, out, new Map([['a', 1]]), new Date(), image);
    succeed(tasks);
    await batchDone(tasks);

    expect([...out.subarray(0, 5)]).toEqual([1, 1, 1, 64 * 1024, 64 * 1024]);
    expect(image.buffer.byteLength).toBe(0); // moved, not copied
  });
});

describe('the queue', () => {
  it('counts thread tasks waiting for a thread as queued, under maxQueued', async () => {
    const runner = threadRunner({ maxQueued: 1, threads: { maxThreads: 1 } });
    const busy = threads.counter();
    const log = threads.counter();
    const tasks = ownedTasks(runner);
    tasks.concurrent = true;
    tasks.addTaskWithOptions({ timeout: 200 }, threads.spin, busy);
    succeed(tasks);
    tasks.addTask(threads.append, log, 1);
    expect(() => tasks.addTask(threads.append, log, 2)).toThrow(BackgroundTasksOverflowException);
    await within('the tasks to end', runner.whenIdle());
    expect(runner.stats()).toEqual(stats({ timedOut: 1, succeeded: 1 }));
  });
});

describe('tracing', () => {
  let sdk: OtelSdk;
  beforeAll(() => (sdk = new OtelSdk()));
  afterAll(() => sdk.shutdown());

  it('runs a thread task in a span of its own, ended with its outcome', async () => {
    const resolved = resolveOptions({ tracing: true, shutdownTimeout: 0 });
    const runner = new TaskRunner(resolved, openTelemetry({ parent: 'link', metrics: false }));
    runners.push(runner);
    const tasks = ownedTasks(runner);
    const request = trace.getTracer('test').startSpan('POST /orders/:id');
    context.with(trace.setSpan(context.active(), request), () => tasks.addTask(threads.fail, 'no thumbnail'));
    request.end();
    succeed(tasks);
    await batchDone(tasks);

    const [span] = sdk.taskSpans('fail');
    expect(span.attributes['background_task.outcome']).toBe('failed');
    expect(span.events.map(({ name }) => name)).toContain('exception');
    expect(span.links.map((link) => link.context)).toEqual([request.spanContext()]);
  });

  it('ends the span of a running thread task that is cancelled, with the reason', async () => {
    const resolved = resolveOptions({ tracing: true, shutdownTimeout: 0 });
    const runner = new TaskRunner(resolved, openTelemetry({ parent: 'link', metrics: false }));
    runners.push(runner);
    const tasks = ownedTasks(runner);
    const counter = threads.counter();
    tasks.addTaskWithOptions({ name: 'spinning' }, threads.spin, counter);
    succeed(tasks);
    await waitFor('the thread to spin', () => Atomics.load(counter, 0) > 0);
    tasks.cancel('spinning');
    await within('the runner to be idle', runner.whenIdle());

    const [span] = sdk.taskSpans('spinning');
    expect(span.attributes).toMatchObject({ 'background_task.outcome': 'cancelled', 'background_task.reason': 'cancelled' });
  });
});
