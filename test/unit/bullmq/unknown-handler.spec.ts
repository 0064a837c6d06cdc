import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { JobData } from '../../../lib/bullmq/job-data.js';
import { handBack } from '../../../lib/bullmq/unknown-handler.js';

describe('handBack', () => {
  const known = ['Reports.build'];
  let log: jest.SpiedFunction<Logger['log']>;
  const logger = new Logger('test');

  beforeEach(() => (log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined)));
  afterEach(() => jest.restoreAllMocks());

  /** A job as BullMQ hands it to the processor, whose moves are recorded. */
  function job(data: JobData) {
    const fake = {
      name: 'Mailer.sendWelcome',
      id: '4',
      data,
      moveToDelayed: jest.fn((_timestamp: number, _token?: string) => Promise.resolve()),
      updateData: jest.fn((updated: JobData) => {
        fake.data = updated;
        return Promise.resolve();
      }),
    };
    return fake;
  }
  const handBackAt = (fake: ReturnType<typeof job>, now: number, limit = 600_000) =>
    handBack(fake as unknown as Job<JobData, void>, 'token', known, limit, logger, now);

  it('puts the job back, delayed, waiting as long again as it has since its first hand-back: 1 s, doubling up to 30 s', async () => {
    const fake = job({ args: ['ada'] });
    const waits: number[] = [];
    let now = 1_000_000;
    for (let i = 0; i < 8; i++) {
      expect(await handBackAt(fake, now)).toBeInstanceOf(DelayedError);
      const [timestamp, token] = fake.moveToDelayed.mock.calls[i];
      expect(token).toBe('token');
      waits.push(timestamp - now);
      now = timestamp;
    }
    expect(waits).toEqual([1000, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(fake.data).toEqual({ args: ['ada'], handedBackAt: 1_000_000 });
    expect(fake.updateData).toHaveBeenCalledTimes(1);
  });

  it('logs the first hand-back of a job only, at the log level', async () => {
    const fake = job({ args: [] });
    await handBackAt(fake, 1000);
    await handBackAt(fake, 2000);
    expect(log.mock.calls.map(([message]) => message)).toEqual([
      'Background job "Mailer.sendWelcome" (4) went back to the queue: no @BackgroundTaskHandler() method is named "Mailer.sendWelcome" ' +
        'in this worker (it has "Reports.build"). A worker that has it will take it, as during a rolling deploy; ' +
        'if none does within unknownHandlerTimeout (600000 ms), it fails for good.',
    ]);
  });

  it('waits no longer than the limit, then fails the job for good, saying what to do', async () => {
    const fake = job({ args: [], handedBackAt: 0 });
    expect(await handBackAt(fake, 59_000, 60_000)).toBeInstanceOf(DelayedError);
    expect(fake.moveToDelayed.mock.calls[0][0]).toBe(60_000);
    const error = await handBackAt(fake, 60_000, 60_000);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe(
      'No @BackgroundTaskHandler() method is named "Mailer.sendWelcome" in this worker (it has "Reports.build"), ' +
        'and no worker that has it took the job within unknownHandlerTimeout (60000 ms) of its first hand-back: it fails for good. ' +
        'Deploy workers with this handler (keep handler names stable across deploys, with @BackgroundTaskHandler({ name })), ' +
        'then retry the job from the failed set; or raise unknownHandlerTimeout.',
    );
    expect(fake.moveToDelayed).toHaveBeenCalledTimes(1);
  });

  it('with unknownHandlerTimeout: 0, fails the job at once, as it meets it', async () => {
    const fake = job({ args: [] });
    const error = await handBackAt(fake, 1000, 0);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(
      /^No @BackgroundTaskHandler\(\) method is named "Mailer.sendWelcome" in this worker \(it has "Reports.build"\), and unknownHandlerTimeout is 0: it fails for good at once\. Deploy workers/,
    );
    expect([fake.moveToDelayed, fake.updateData, log].map((called) => called.mock.calls.length)).toEqual([0, 0, 0]);
  });
});
