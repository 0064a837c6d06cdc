import { AppBackgroundTasks, BackgroundTasksMonitor } from '../../lib/index.js';
import { gates, journal, Mailer } from '../fixtures/bullmq.app.js';
import { post } from '../utils/http.js';
import { describeWithRedis } from '../utils/redis.js';
import { waitFor, within } from '../utils/wait-for.js';
import { inspectQueue, startBullMQApp, uniqueQueue } from './bullmq-app.js';

describeWithRedis('BullMQ: shutdown', (redis) => {
  beforeEach(() => (journal.length = 0));
  afterEach(() => gates.clear());

  it('scenario 10: app.close() while a job runs and an enqueue is pending loses nothing; the job enqueues its follow-up', async () => {
    const queueName = uniqueQueue();
    const { app, port } = await startBullMQApp(redis(), { queueName });
    gates.hold('f1');
    await post(port, '/follow-up/f1');
    await waitFor('the job to start', () => journal.includes('withFollowUp f1 start'));

    app.get(AppBackgroundTasks).addTask(app.get(Mailer).sendWelcome, 'late');
    const closed = app.close();
    gates.open('f1');
    await within('app.close()', closed, 15_000);

    // 'late' may reach Redis, and this worker, before shutdown stops it taking jobs: it runs here once, or waits.
    const ranLate = journal.includes('welcome late');
    expect(journal).toEqual(['withFollowUp f1 start', 'withFollowUp f1 end', ...(ranLate ? ['welcome late'] : [])]);
    expect(app.get(BackgroundTasksMonitor).stats()).toMatchObject({
      queued: 0,
      running: 0,
      dropped: 0,
      failed: 0,
      jobs: { dispatched: 3, running: 0, succeeded: ranLate ? 2 : 1, failed: 0 },
    });
    const waiting = await inspectQueue(redis(), queueName, async (queue) =>
      (await queue.getWaiting()).map((job) => [job.name, job.data.args]),
    );
    expect(waiting.sort()).toEqual([
      ['Mailer.sendWelcome', ['f1 follow-up']],
      ...(ranLate ? [] : [['Mailer.sendWelcome', ['late']]]),
    ]);
  });

  it('aborts the signal of a job still running at shutdownTimeout, and puts it back in the queue without using an attempt', async () => {
    const queueName = uniqueQueue();
    const { app, port } = await startBullMQApp(redis(), { queueName }, { shutdownTimeout: 100 });
    gates.hold('stuck');
    await post(port, '/slow/stuck');
    await waitFor('the job to start', () => journal.includes('slow stuck start'));
    await within('app.close()', app.close(), 15_000);

    expect(journal).toEqual(['slow stuck start']);
    expect(app.get(BackgroundTasksMonitor).stats().jobs).toMatchObject({ running: 0, failed: 0, retried: 1 });
    const [job] = await inspectQueue(redis(), queueName, (queue) => queue.getWaiting());
    expect([job.name, job.attemptsMade]).toEqual(['slow', 0]);
  });
});
