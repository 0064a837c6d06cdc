import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { post } from '../utils/http.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor } from '../utils/wait-for.js';
import { webAndWorkers } from './web-and-workers.js';
import { journalLines, stop } from './worker-processes.js';

/**
 * A rolling deploy: worker A, an old process, lacks the handler of the jobs
 * that the web process enqueues; worker B, a new one, has it.
 */
describeWithRedis('BullMQ: a job whose handler this worker lacks', (redis) => {
  const setup = webAndWorkers(redis);
  let connection: Redis;
  let queue: Queue;

  beforeEach(() => {
    connection = new Redis({ ...redis().connection, maxRetriesPerRequest: null });
    queue = new Queue(setup.queueName, { connection, prefix: redis().prefix });
  });

  afterEach(async () => {
    await queue.close();
    connection.disconnect();
  });

  const startWorker = (handlers: string[], options: object = {}) => setup.startWorker({ handlers, options });
  const jobs = () => queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  const users = ['u1', 'u2', 'u3', 'u4', 'u5'];

  it('goes back to the queue, without using an attempt, until a worker that has the handler runs it, once', async () => {
    const a = await startWorker(['Reports']);
    for (const user of users) expect((await post(setup.port, `/signup/${user}`)).status).toBe(201);
    // Only worker A runs: every job it took, it handed back.
    await waitFor('worker A to take every job', async () => {
      const all = await jobs();
      return all.length === users.length && all.every((job) => job.attemptsStarted >= 1);
    });
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 });

    const b = await startWorker(['Mailer']);
    // The deploy ends: the old process leaves. While both ran, a job that A took again waited twice as long each
    // time, so with A left running the test's duration would be a matter of luck; now each job waits at most once
    // more, as long as it had waited when A last handed it back.
    await stop(a);
    const done = await waitFor(
      'worker B to run every job',
      async () => {
        const welcomes = (await journalLines(setup.file)).filter(({ entry }) => entry.startsWith('welcome '));
        return welcomes.length >= users.length && welcomes;
      },
      // Up to about twice B's start-up, on a busy machine.
      60_000,
    );
    const lines = await journalLines(setup.file);
    expect(
      lines
        .filter(({ entry }) => entry.startsWith('start '))
        .map(({ entry }) => entry)
        .sort(),
    ).toEqual(users.map((user) => `start ${user}`));
    expect(done.map(({ entry }) => entry).sort()).toEqual(users.map((user) => `welcome ${user}`));
    expect(lines.every(({ pid }) => pid === b.pid)).toBe(true);
    const completed: Job[] = await waitFor('the jobs to be completed', async () => {
      const found = await queue.getCompleted();
      return found.length === users.length && found;
    });
    // One attempt each, B's; A's pick-ups used none.
    expect(completed.map((job) => job.attemptsMade)).toEqual(users.map(() => 1));
    expect(completed.every((job) => job.attemptsStarted >= 2)).toBe(true);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  }, 90_000);

  it('fails for good once no worker with the handler took it within unknownHandlerTimeout, saying what to do', async () => {
    await startWorker(['Reports'], { unknownHandlerTimeout: 1500 });
    await post(setup.port, '/signup/gone');
    const [job] = await waitFor('the job to fail', async () => {
      const failed = await queue.getFailed();
      return failed.length === 1 && failed;
    });
    expect(job.failedReason).toBe(
      'No @BackgroundTaskHandler() method is named "Mailer.sendWelcome" in this worker (it has "Reports.build"), ' +
        'and no worker that has it took the job within unknownHandlerTimeout (1500 ms) of its first hand-back: it fails for good. ' +
        'Deploy workers with this handler (keep handler names stable across deploys, with @BackgroundTaskHandler({ name })), ' +
        'then retry the job from the failed set; or raise unknownHandlerTimeout.',
    );
    expect([job.attemptsMade, job.attemptsStarted >= 2]).toEqual([1, true]);
    expect(await journalLines(setup.file)).toEqual([]);
  }, 30_000);
});
