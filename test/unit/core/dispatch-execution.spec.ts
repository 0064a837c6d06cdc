import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Task } from '../../../lib/core/task.js';
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
  readonly dispatched: Task[] = [];
  outcome: DispatchOutcome = 'enqueued';
  constructor(readonly onEnqueueFailure: EnqueueFailurePolicy = 'run-in-process') {}
  admit(_task: Task): void {}
  dispatch(task: Task): Promise<DispatchOutcome> {
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

const counters = { queued: 0, running: 0, overdue: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, cancelled: 0 };

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

it('has the dispatcher admit each task at addTask: what it rejects throws there and is not queued', () => {
  const dispatcher = new FakeDispatcher();
  const { runner, tasks } = setUp(dispatcher);
  const admitted: string[] = [];
  dispatcher.admit = (task) => {
    admitted.push(task.name);
    if (task.args[0] === 'bad') throw new TypeError('not for the queue');
  };
  expect(() => tasks.addTask(Mailer.prototype.sendWelcome, 'bad')).toThrow(new TypeError('not for the queue'));
  tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
  tasks.addTask(function audit() {});
  expect(admitted).toEqual(['Mailer.sendWelcome', 'Mailer.sendWelcome', 'audit']);
  expect(runner.stats()).toMatchObject({ queued: 2 });
});

const broken: Record<string, TaskDispatcher['dispatch']> = {
  throws: () => {
    throw new Error('dispatcher bug');
  },
  rejects: () => Promise.reject(new Error('dispatcher bug')),
};

describe.each(['throws', 'rejects'])('a dispatcher that %s, which it must never do', (how) => {
  it.each([
    ['run-in-process', { succeeded: 1, sent: ['ada'] }],
    ['drop', { dropped: 1, sent: [] }],
  ] as const)(
    'is reported as a bug, and the task follows onEnqueueFailure %s: nothing is left running',
    async (policy, expected) => {
      const dispatcher = new FakeDispatcher(policy);
      dispatcher.dispatch = broken[how];
      const { runner, mailer, tasks } = setUp(dispatcher);
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      tasks.addTask(Mailer.prototype.sendWelcome, 'ada');
      succeed(tasks);
      await within('the task to end', runner.whenIdle());
      const { sent, ...counts } = expected;
      expect(mailer.sent).toEqual(sent);
      expect(runner.stats()).toMatchObject({ ...counters, ...counts });
      expect(error.mock.calls.map(([message]) => message)).toEqual([
        'Background task "Mailer.sendWelcome" could not be handed to the queue backend, which threw instead of failing cleanly; ' +
          `the task follows onEnqueueFailure ('${policy}'). This is a bug of nestjs-background-tasks: please report it with this stack.`,
      ]);
    },
  );
});
