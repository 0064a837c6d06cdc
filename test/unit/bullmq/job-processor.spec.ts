import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type { JobData } from '../../../lib/bullmq/job-data.js';
import { jobProcessor } from '../../../lib/bullmq/job-processor.js';
import { ShutdownExpiry } from '../../../lib/bullmq/shutdown-expiry.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTaskContext } from '../../../lib/interfaces/index.js';
import { deferred, letWrongOutcomeShow, track, waitFor } from '../../utils/wait-for.js';

describe('jobProcessor', () => {
  class Mailer {
    readonly sent: string[] = [];
    readonly reasons: unknown[] = [];
    send(id: string): void {
      this.sent.push(id);
    }
    async wait({ signal }: BackgroundTaskContext, gate: Promise<void>): Promise<void> {
      await Promise.race([
        gate,
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            this.reasons.push(signal.reason);
            reject(signal.reason as Error);
          }),
        ),
      ]);
    }
  }
  const job = (name: string, data: unknown, moveToWait = jest.fn(() => Promise.resolve(0))) =>
    ({ name, data, id: '9', attemptsMade: 0, opts: { attempts: 2 }, moveToWait }) as unknown as Job<JobData, void>;
  let runner: TaskRunner;
  let mailer: Mailer;
  let shutdown: ShutdownExpiry;
  let warn: jest.SpiedFunction<Logger['warn']>;
  const process = (unknownHandlerTimeout = 0) => jobProcessor(runner, { queueName: 'q', unknownHandlerTimeout }, shutdown);

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    runner = new TaskRunner();
    runner.jobs.enable();
    mailer = new Mailer();
    runner.handlers.register({ name: 'send', fn: Mailer.prototype.send, instance: mailer, options: {} });
    runner.handlers.register({ name: 'wait', fn: Mailer.prototype.wait, instance: mailer, options: {} });
    shutdown = new ShutdownExpiry();
  });
  afterEach(() => jest.restoreAllMocks());

  it('calls the handler on its provider with the job arguments', async () => {
    await process()(job('send', { args: ['ada'], extra: 'fields it does not know are ignored' }));
    expect(mailer.sent).toEqual(['ada']);
    expect(runner.stats().jobs).toMatchObject({ running: 0, succeeded: 1 });
  });

  it('hands a job of an unknown handler back to the queue, delayed, counting nothing; with unknownHandlerTimeout: 0, fails it for good', async () => {
    const handedBack = job('gone', { args: [] });
    Object.assign(handedBack, { moveToDelayed: jest.fn(() => Promise.resolve()), updateData: jest.fn(() => Promise.resolve()) });
    await expect(process(60_000)(handedBack, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(handedBack.moveToDelayed).toHaveBeenCalledWith(expect.any(Number), 'token');
    expect(runner.stats().jobs).toMatchObject({ running: 0, failed: 0, retried: 0 });
    await expect(process(0)(job('gone', { args: [] }))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(runner.stats().jobs).toMatchObject({ running: 0, failed: 1, retried: 0 });
  });

  it.each([
    [{ nothing: true }, 'field "args" of its data must be an array'],
    [{ args: ['ada'], context: 1 }, 'field "context" of its data must be true, got number (1)'],
    [{ args: ['ada'], name: '' }, 'field "name" of its data must be a non-empty string'],
    [{ args: ['ada'], timeout: 'abc' }, 'field "timeout" of its data must be a positive number of milliseconds'],
    [{ args: ['ada'], timeout: -5 }, 'field "timeout" of its data must be a positive number of milliseconds'],
    [{ args: ['ada'], trace: { traceparent: 1 } }, 'field "trace" of its data must be an object of strings'],
  ])('fails a malformed job, %j, for good without calling its handler, naming the field', async (data, problem) => {
    const running = process()(job('send', data));
    await expect(running).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(running).rejects.toThrow(`Background job "send" is malformed: ${problem}`);
    expect(mailer.sent).toEqual([]);
    expect(runner.stats().jobs).toMatchObject({ running: 0, succeeded: 0, failed: 1, retried: 0 });
  });

  /** A handler that ignores its signal, and returns when `body` resolves. */
  const stubborn = () => {
    const body = deferred();
    runner.handlers.register({ name: 'stubborn', fn: () => body.promise, instance: mailer, options: {} });
    return body;
  };
  const timedOut = { name: 'TimeoutError', message: 'Background task "stubborn" timed out after 20 ms.' };

  it("reports a timed-out attempt at its deadline, but holds the job's slot until its handler returns, overdue meanwhile", async () => {
    const body = stubborn();
    const running = process()(job('stubborn', { args: [], context: true, timeout: 20 }));
    const state = track(running);
    await waitFor('the job to be overdue', () => runner.stats().jobs?.overdue === 1);
    expect(runner.stats().jobs).toMatchObject({ running: 0, overdue: 1, retried: 1 });
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(
        /^Background job "stubborn" \(9\) timed out after 20 ms, but its handler "stubborn" has not returned/,
      ),
    ]);
    await letWrongOutcomeShow();
    expect(state.settled).toBe(false);
    body.resolve();
    await expect(running).rejects.toMatchObject(timedOut);
    expect(runner.stats().jobs).toMatchObject({ running: 0, overdue: 0, succeeded: 0, failed: 0, retried: 1 });
  });

  it('does not count a handler that honours its aborted signal as overdue', async () => {
    const running = process()(job('wait', { args: [deferred().promise], context: true, timeout: 20 }));
    await expect(running).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(mailer.reasons).toHaveLength(1);
    expect(warn).not.toHaveBeenCalled();
    expect(runner.stats().jobs).toMatchObject({ running: 0, overdue: 0, retried: 1 });
  });

  it('reports a job cancelled by cancelJob() at once, but holds its slot until a handler that ignores the signal returns', async () => {
    const body = stubborn();
    const controller = new AbortController();
    const running = process()(job('stubborn', { args: [], context: true }), 'token', controller.signal);
    const state = track(running);
    await new Promise(setImmediate); // the handler is running
    controller.abort('cancelled by the user');
    await waitFor('the job to be overdue', () => runner.stats().jobs?.overdue === 1);
    expect(runner.stats().jobs).toMatchObject({ running: 0, overdue: 1, failed: 1 });
    await letWrongOutcomeShow();
    expect(state.settled).toBe(false);
    body.resolve();
    await expect(running).rejects.toEqual(new UnrecoverableError('cancelled by the user'));
    expect(runner.stats().jobs).toMatchObject({ running: 0, overdue: 0, failed: 1, retried: 0 });
  });

  it('stops holding an overdue job when shutdown gives up on the running ones, and fails it as it was reported', async () => {
    stubborn();
    const controller = new AbortController();
    const moveToWait = jest.fn(() => Promise.resolve(0));
    const running = process()(job('stubborn', { args: [], context: true, timeout: 20 }, moveToWait), 'token', controller.signal);
    await waitFor('the job to be overdue', () => runner.stats().jobs?.overdue === 1);
    shutdown.expire();
    controller.abort('The application is shutting down.');
    await expect(running).rejects.toMatchObject(timedOut);
    expect(moveToWait).not.toHaveBeenCalled();
    expect(runner.stats().jobs).toMatchObject({ running: 0, overdue: 0, failed: 0, retried: 1 });
  });

  it("stops holding a cancelled overdue job at shutdown too, though BullMQ's signal, aborted already, cannot tell it", async () => {
    stubborn();
    const controller = new AbortController();
    const running = process()(job('stubborn', { args: [], context: true }), 'token', controller.signal);
    await new Promise(setImmediate); // the handler is running
    controller.abort('cancelled by the user');
    await waitFor('the job to be overdue', () => runner.stats().jobs?.overdue === 1);
    shutdown.expire();
    await expect(running).rejects.toEqual(new UnrecoverableError('cancelled by the user'));
    expect(runner.stats().jobs).toMatchObject({ running: 0, overdue: 0, failed: 1 });
  });

  it('at shutdown, puts an aborted job back in the queue without using an attempt', async () => {
    const controller = new AbortController();
    const moveToWait = jest.fn(() => Promise.resolve(0));
    const running = process()(job('wait', { args: [deferred().promise], context: true }, moveToWait), 'token', controller.signal);
    await new Promise(setImmediate); // the handler is waiting
    shutdown.expire();
    controller.abort('The application is shutting down.');
    await expect(running).rejects.toBeInstanceOf(WaitingError);
    // As in-process: an AbortError.
    expect(mailer.reasons.map((reason) => [(reason as DOMException).name, (reason as DOMException).message])).toEqual([
      ['AbortError', 'The application is shutting down.'],
    ]);
    expect(moveToWait).toHaveBeenCalledWith('token');
    expect(runner.stats().jobs).toMatchObject({ running: 0, failed: 0, retried: 1 });
  });

  it("fails a job cancelled by cancelJob() for good, its handler's signal aborted with the reason given", async () => {
    const controller = new AbortController();
    const running = process()(job('wait', { args: [deferred().promise], context: true }), 'token', controller.signal);
    await new Promise(setImmediate); // the handler is waiting
    controller.abort('cancelled by the user');
    await expect(running).rejects.toEqual(new UnrecoverableError('cancelled by the user'));
    await expect(running).rejects.toBeInstanceOf(UnrecoverableError);
    expect(mailer.reasons).toEqual(['cancelled by the user']);
    expect(runner.stats().jobs).toMatchObject({ running: 0, failed: 1, retried: 0 });
  });
});
