import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { BullMQDispatcher } from '../../../lib/bullmq/bullmq-dispatcher.js';
import { resolveBullMQOptions } from '../../../lib/bullmq/bullmq-options.js';
import { Task } from '../../../lib/core/task.js';
import type { TaskHandler } from '../../../lib/core/task-handlers.js';
import { collectedWithin } from '../../utils/gc.js';
import { within } from '../../utils/wait-for.js';

describe('BullMQDispatcher', () => {
  const handler: TaskHandler = {
    name: 'Mailer.send',
    fn: () => undefined,
    instance: {},
    options: { attempts: 3, backoff: 10, name: 'ignored' },
  };
  const task = (name?: string, timeout = Infinity) =>
    new Task(handler.fn, ['ada'], undefined as never, name, false, timeout, name !== undefined, handler);
  let warn: jest.SpiedFunction<Logger['warn']>;

  beforeEach(() => (warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined)));
  afterEach(() => jest.restoreAllMocks());

  function dispatcher(add: (...args: unknown[]) => Promise<unknown>, connected = true, enqueueTimeout = 1000) {
    const queue = { addUntraced: jest.fn(add) };
    const options = resolveBullMQOptions({ connection: {}, enqueueTimeout });
    return { queue, dispatcher: new BullMQDispatcher(queue, options, () => connected) };
  }

  describe('admit', () => {
    const withArgs = (...args: unknown[]) =>
      new Task(handler.fn, args, undefined as never, undefined, false, Infinity, false, handler);
    const closure = new Task(function audit() {}, [], undefined as never, undefined, false, Infinity, false);
    const subject = (requireDurable = false) =>
      new BullMQDispatcher(
        { addUntraced: () => Promise.resolve() },
        resolveBullMQOptions({ connection: {}, requireDurable }),
        () => true,
      );

    it("rejects a handler's argument that JSON would change, naming the task, the argument and where in it", () => {
      expect(() => subject().admit(withArgs('ada', { items: [{ at: new Date() }] }))).toThrow(
        new TypeError(
          'BackgroundTasks: "Mailer.send" runs as a BullMQ job, whose arguments travel as JSON, but argument 2: .items[0].at is a Date. ' +
            'Pass JSON values, arrays and plain objects: ids rather than entities, date.toISOString() rather than a Date.',
        ),
      );
      expect(() => subject().admit(withArgs('ada', { items: [{ at: '2026-12-05' }] }))).not.toThrow();
    });

    it('takes a closure, which runs in-process, unless requireDurable is set', () => {
      expect(() => subject().admit(closure)).not.toThrow();
      expect(() => subject(true).admit(closure)).toThrow(
        /^BackgroundTasks: "audit" is not a @BackgroundTaskHandler\(\) method, and requireDurable is set/,
      );
      expect(() => subject(true).admit(withArgs('ada'))).not.toThrow();
    });
  });

  it("adds a job named after the handler, with the task's arguments and the handler's job options", async () => {
    const { queue, dispatcher: subject } = dispatcher(() => Promise.resolve({ id: '1' }));
    expect(await subject.dispatch(task())).toBe('enqueued');
    expect(queue.addUntraced.mock.calls[0]).toEqual(['Mailer.send', { args: ['ada'] }, { attempts: 3, backoff: 10 }]);
  });

  it("makes a task's name its deduplication id, and carries its context and timeout", async () => {
    const { queue, dispatcher: subject } = dispatcher(() => Promise.resolve({ id: '1' }));
    await subject.dispatch(task('welcome-ada', 500));
    expect(queue.addUntraced.mock.calls[0]).toEqual([
      'Mailer.send',
      { args: ['ada'], context: true, name: 'welcome-ada', timeout: 500 },
      { attempts: 3, backoff: 10, deduplication: { id: 'welcome-ada' } },
    ]);
  });

  it('fails at once while disconnected, without trying add()', async () => {
    const { queue, dispatcher: subject } = dispatcher(() => Promise.resolve({}), false);
    expect(await subject.dispatch(task())).toBe('failed');
    expect(queue.addUntraced).not.toHaveBeenCalled();
    expect(warn.mock.calls[0][0]).toBe(
      'Background task "Mailer.send" could not be enqueued (the queue is not connected); ' +
        'running it in this process instead (onEnqueueFailure: run-in-process).',
    );
  });

  it('retries a failed add briefly, up to three tries', async () => {
    let tries = 0;
    const { queue, dispatcher: subject } = dispatcher(() =>
      ++tries < 3 ? Promise.reject(new Error('READONLY')) : Promise.resolve({}),
    );
    expect(await subject.dispatch(task())).toBe('enqueued');
    expect(queue.addUntraced).toHaveBeenCalledTimes(3);
  });

  it('gives up on an add that always fails after exactly three tries (TRIES), and warns once', async () => {
    const { queue, dispatcher: failing } = dispatcher(() => Promise.reject(new Error('READONLY')));
    expect(await failing.dispatch(task())).toBe('failed');
    expect(queue.addUntraced).toHaveBeenCalledTimes(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/could not be enqueued \(READONLY\)/);
  });

  it('counts an add that throws synchronously as a failed try: the dispatch is decided, and never throws or rejects', async () => {
    const { queue, dispatcher: throwing } = dispatcher(() => {
      throw new TypeError('cannot add');
    });
    expect(await throwing.dispatch(task())).toBe('failed');
    expect(queue.addUntraced).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Background task "Mailer.send" could not be enqueued (cannot add); running it in this process instead (onEnqueueFailure: run-in-process).',
    ]);
  });

  it('counts a synchronous throw in a retry, on its timer, as a failed try too, even without a deadline', async () => {
    let tries = 0;
    const { queue, dispatcher: subject } = dispatcher(
      () => {
        if (++tries === 1) return Promise.reject(new Error('READONLY'));
        throw new TypeError('cannot add');
      },
      true,
      Infinity,
    );
    expect(await within('the dispatch to decide', subject.dispatch(task()))).toBe('failed');
    expect(queue.addUntraced).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls[0][0]).toMatch(/could not be enqueued \(cannot add\)/);
  });

  it("lets go of a decided task and its arguments at once, long before its enqueue's deadline (rule 8: nothing is kept)", async () => {
    // Not a jest.fn(): its recorded calls would keep the job's data.
    const queue = { addUntraced: () => Promise.resolve({ id: '1' }) };
    const subject = new BullMQDispatcher(queue, resolveBullMQOptions({ connection: {}, enqueueTimeout: 60_000 }), () => true);
    const dispatchOne = async () => {
      const argument = { user: 'ada' };
      const outcome = await subject.dispatch(
        new Task(handler.fn, [argument], undefined as never, undefined, false, Infinity, false, handler),
      );
      return { outcome, argument: new WeakRef(argument) };
    };
    const { outcome, argument } = await dispatchOne();
    expect(outcome).toBe('enqueued');
    expect(await collectedWithin(argument)).toBe(true);
  });

  it('gives up on an add that does not answer within enqueueTimeout', async () => {
    const { queue, dispatcher: subject } = dispatcher(() => new Promise(() => undefined), true, 30);
    expect(await subject.dispatch(task())).toBe('failed');
    expect(queue.addUntraced).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/could not be enqueued \(no answer within enqueueTimeout, 30 ms\)/);
  });

  it('watches many pending adds with one timer: each fails at its own deadline, and a late answer is no news', async () => {
    const answers: ((job: unknown) => void)[] = [];
    let tries = 0;
    // The fourth task's first try fails, and its retry waits too, under the same deadline.
    const { queue, dispatcher: subject } = dispatcher(
      () => (++tries === 4 ? Promise.reject(new Error('READONLY')) : new Promise((resolve) => answers.push(resolve))),
      true,
      200,
    );
    const first = subject.dispatch(task());
    const second = subject.dispatch(task());
    answers[1]({ id: '2' });
    expect(await second).toBe('enqueued');
    const third = subject.dispatch(task());
    const fourth = subject.dispatch(task());
    expect(await Promise.all([first, third, fourth])).toEqual(['failed', 'failed', 'failed']);
    expect(queue.addUntraced).toHaveBeenCalledTimes(5);
    for (const answer of answers) answer({ id: 'late' });
    await new Promise(setImmediate);
    expect(warn).toHaveBeenCalledTimes(3);
  });
});
