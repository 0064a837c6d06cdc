import { jest } from '@jest/globals';
import type { BackgroundTask } from '../../../lib/core/background-task.js';
import type { DispatchOutcome, EnqueueFailurePolicy, TaskDispatcher } from '../../../lib/core/task-dispatcher.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTaskEvent, BackgroundTaskHook } from '../../../lib/interfaces/index.js';
import { ownedTasks, succeed } from '../../utils/owned-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, within } from '../../utils/wait-for.js';

/**
 * The runner's hand-over seam with a queue backend (TaskRunner.execute()),
 * with a fake dispatcher: what is dispatched, counted, run in-process or
 * dropped. The BullMQ dispatcher itself is in test/unit/bullmq/.
 */

watchEachTest();

class Mailer {
  readonly sent: string[] = [];
  sendWelcome(id: string): void {
    this.sent.push(id);
  }
}

class FakeDispatcher implements TaskDispatcher {
  readonly dispatched: BackgroundTask[] = [];
  outcome: DispatchOutcome = 'enqueued';
  constructor(
    readonly onEnqueueFailure: EnqueueFailurePolicy = 'run-in-process',
    readonly requireDurable = false,
  ) {}
  dispatch(task: BackgroundTask): Promise<DispatchOutcome> {
    this.dispatched.push(task);
    return Promise.resolve(this.outcome);
  }
}

function setUp(dispatcher?: FakeDispatcher, hooks: { onTaskDropped?: BackgroundTaskHook } = {}) {
  const runner = new TaskRunner(hooks);
  const mailer = new Mailer();
  runner.handlers.register({ name: 'Mailer.sendWelcome', fn: Mailer.prototype.sendWelcome, instance: mailer, options: {} });
  if (dispatcher) runner.setDispatcher(dispatcher);
  return { runner, mailer, tasks: ownedTasks(runner) };
}

const counters = { queued: 0, running: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, cancelled: 0 };

it('without a dispatcher, runs a handler in-process on its provider, and has no jobs block', async () => {
  const { runner, mailer, tasks } = setUp();
  tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
  succeed(tasks);
  await within('the task', runner.whenIdle());
  expect(mailer.sent).toEqual(['ada']);
  expect(runner.stats()).toEqual({ ...counters, succeeded: 1 });
});

it('hands a handler task to the dispatcher, named after the handler, and counts it only as dispatched', async () => {
  const dispatcher = new FakeDispatcher();
  const { runner, mailer, tasks } = setUp(dispatcher);
  tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
  tasks.addTask(() => undefined);
  expect(dispatcher.dispatched).toEqual([]); // not before the request is done
  succeed(tasks);
  await within('the tasks', runner.whenIdle());
  expect(dispatcher.dispatched.map((task) => [task.name, task.args])).toEqual([['Mailer.sendWelcome', ['ada']]]);
  expect(mailer.sent).toEqual([]);
  expect(runner.stats()).toEqual({
    ...counters,
    succeeded: 1,
    jobs: { dispatched: 1, running: 0, overdue: 0, succeeded: 0, failed: 0, retried: 0 },
  });
});

it('keeps the order of a request: the next task waits for the enqueue', async () => {
  const order: string[] = [];
  const enqueued = deferred<DispatchOutcome>();
  const dispatcher = new FakeDispatcher();
  dispatcher.dispatch = (task) => (order.push(`dispatch ${task.name}`), enqueued.promise);
  const { runner, tasks } = setUp(dispatcher);
  tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
  tasks.addTask(() => void order.push('next'));
  succeed(tasks);
  await Promise.resolve();
  expect(order).toEqual(['dispatch Mailer.sendWelcome']);
  expect(runner.stats()).toMatchObject({ running: 1, queued: 1 });
  enqueued.resolve('enqueued');
  await within('the tasks', runner.whenIdle());
  expect(order).toEqual(['dispatch Mailer.sendWelcome', 'next']);
});

it("runs a task whose enqueue failed in-process, under 'run-in-process'", async () => {
  const dispatcher = new FakeDispatcher('run-in-process');
  dispatcher.outcome = 'failed';
  const { runner, mailer, tasks } = setUp(dispatcher);
  tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
  succeed(tasks);
  await within('the task', runner.whenIdle());
  expect(mailer.sent).toEqual(['ada']);
  expect(runner.stats()).toMatchObject({ succeeded: 1, dropped: 0, jobs: { dispatched: 0 } });
});

it("drops a task whose enqueue failed under 'drop', and reports why", async () => {
  const dispatcher = new FakeDispatcher('drop');
  dispatcher.outcome = 'failed';
  const onTaskDropped = jest.fn<BackgroundTaskHook>();
  const { runner, mailer, tasks } = setUp(dispatcher, { onTaskDropped });
  tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
  succeed(tasks);
  await within('the task', runner.whenIdle());
  expect(mailer.sent).toEqual([]);
  expect(runner.stats()).toMatchObject({ succeeded: 0, dropped: 1, running: 0, jobs: { dispatched: 0 } });
  const event: BackgroundTaskEvent = onTaskDropped.mock.calls[0][0];
  expect([event.name, event.reason]).toEqual(['Mailer.sendWelcome', 'enqueue-failed']);
});

it('checks the arguments of a handler task at addTask, and only with a dispatcher', () => {
  const withQueue = setUp(new FakeDispatcher());
  expect(() => withQueue.tasks.addTask(Mailer.prototype.sendWelcome, new Date() as never)).toThrow(
    new TypeError(
      'BackgroundTasks: "Mailer.sendWelcome" runs as a BullMQ job, whose arguments travel as JSON, but argument 1 is a Date. ' +
        'Pass JSON values, arrays and plain objects: ids rather than entities, date.toISOString() rather than a Date.',
    ),
  );
  expect(withQueue.runner.stats()).toMatchObject({ queued: 0 });
  const without = setUp();
  expect(() => without.tasks.addTask(Mailer.prototype.sendWelcome, new Date() as never)).not.toThrow();
});

it('under requireDurable, rejects a closure at addTask, and takes a handler', () => {
  const { runner, tasks } = setUp(new FakeDispatcher('run-in-process', true));
  expect(() => tasks.addTask(function audit() {})).toThrow(
    /^BackgroundTasks: "audit" is not a @BackgroundTask\(\) handler, and requireDurable is set/,
  );
  tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
  expect(runner.stats()).toMatchObject({ queued: 1 });
});
