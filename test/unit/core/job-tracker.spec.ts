import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { JobTracker, type JobRun } from '../../../lib/core/job-tracker.js';
import { resolveOptions } from '../../../lib/core/runner-options.js';
import { TaskReporter } from '../../../lib/core/task-reporter.js';
import type { BackgroundTaskHook } from '../../../lib/interfaces/index.js';

describe('JobTracker', () => {
  const run = (attempt = 1, attempts = 3): JobRun => ({
    name: 'send',
    args: [1],
    id: '7',
    queue: 'q',
    attempt,
    attempts,
    enqueuedAt: Date.now(),
  });

  function tracker() {
    const hooks = {
      onTaskStarted: jest.fn<BackgroundTaskHook>(),
      onTaskSucceeded: jest.fn<BackgroundTaskHook>(),
      onTaskFailed: jest.fn<BackgroundTaskHook>(),
    };
    const jobs = new JobTracker(new TaskReporter(resolveOptions(hooks)));
    return { jobs, hooks };
  }

  afterEach(() => jest.restoreAllMocks());

  it('has no stats until enabled', () => {
    const { jobs } = tracker();
    expect(jobs.stats()).toBeUndefined();
    jobs.enable();
    expect(jobs.stats()).toEqual({ dispatched: 0, running: 0, overdue: 0, succeeded: 0, failed: 0, retried: 0 });
  });

  it('counts a run from start to success, with job events', () => {
    const { jobs, hooks } = tracker();
    jobs.enable();
    const first = run();
    jobs.started(first);
    expect(jobs.stats()).toMatchObject({ running: 1 });
    jobs.succeeded(first);
    expect(jobs.stats()).toMatchObject({ running: 0, succeeded: 1 });
    expect(hooks.onTaskStarted.mock.calls[0][0]).toEqual({
      name: 'send',
      args: [1],
      transport: 'job',
      method: 'JOB',
      path: 'q',
      job: { id: '7', attempt: 1, attempts: 3 },
    });
    expect(hooks.onTaskSucceeded.mock.calls[0][0]).toMatchObject({ duration: expect.any(Number) });
  });

  it('tells when no job runs any more, however the last one ended', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { jobs } = tracker();
    await jobs.whenNoneRunning(); // not enabled: none runs
    jobs.enable();
    const [first, second] = [run(), run()];
    jobs.started(first);
    jobs.started(second);
    let none = false;
    const waiting = jobs.whenNoneRunning().then(() => (none = true));
    jobs.succeeded(first);
    await Promise.resolve();
    expect(none).toBe(false);
    jobs.failed(second, new Error('aborted'), true);
    await waiting;
    expect(jobs.stats()).toMatchObject({ running: 0 });
    await jobs.whenNoneRunning();
  });

  it('logs and reports a failed attempt apart from the final failure; a run that never started is not un-counted', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { jobs, hooks } = tracker();
    jobs.enable();
    const attempt = run(1, 2);
    jobs.started(attempt);
    jobs.failed(attempt, new Error('boom'), true);
    const unknown = run(1, 2);
    jobs.failed(unknown, new Error('no handler'), false);
    expect(jobs.stats()).toEqual({ dispatched: 0, running: 0, overdue: 0, succeeded: 0, failed: 1, retried: 1 });
    expect(error.mock.calls.map(([message]) => message)).toEqual([
      'Background job "send" (7) failed attempt 1 of 2, and will be retried: boom',
      'Background job "send" (7) failed for good, at attempt 1 of 2: no handler',
    ]);
    expect(hooks.onTaskFailed.mock.calls.map(([event]) => event.job?.willRetry)).toEqual([true, false]);
  });

  it('counts a failed attempt whose handler has not returned as overdue, with a warning naming it, until it returns', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { jobs } = tracker();
    jobs.enable();
    const [late, cancelled] = [run(1, 1), { ...run(1, 1), id: '8' }];
    for (const attempt of [late, cancelled]) jobs.started(attempt);
    jobs.failed(late, new Error('timed out'), false);
    jobs.overdue(late, 50);
    jobs.failed(cancelled, new Error('cancelled'), false);
    jobs.overdue(cancelled, undefined);
    expect(jobs.stats()).toMatchObject({ running: 0, overdue: 2, failed: 2 });
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Background job "send" (7) timed out after 50 ms, but its handler "send" has not returned: ' +
        "the worker holds the job's slot until it does. Make the handler honour its signal: pass it on to what it awaits, or check signal.aborted.",
      'Background job "send" (8) was cancelled, but its handler "send" has not returned: ' +
        "the worker holds the job's slot until it does. Make the handler honour its signal: pass it on to what it awaits, or check signal.aborted.",
    ]);
    // Their slots are still held: the worker is not idle.
    let none = false;
    const waiting = jobs.whenNoneRunning().then(() => (none = true));
    jobs.returned();
    await Promise.resolve();
    expect(none).toBe(false);
    jobs.returned();
    await waiting;
    expect(jobs.stats()).toMatchObject({ running: 0, overdue: 0, failed: 2 });
  });
});
