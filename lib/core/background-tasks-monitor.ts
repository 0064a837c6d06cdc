import { Injectable } from '@nestjs/common';
import type { BackgroundTaskStats } from '../interfaces/background-task-stats.interface.js';
import type { BackgroundTasksSnapshot } from '../interfaces/background-tasks-snapshot.interface.js';
import { TaskRunner } from './task-runner.js';

/**
 * The app's runner of background tasks, one per application. Inject it to
 * read its counters, or to wait for the tasks in tests and before closing
 * what they use.
 */
@Injectable()
export class BackgroundTasksMonitor {
  constructor(private readonly runner: TaskRunner) {}

  /**
   * A snapshot of the task counters: `queued` and `running` are what is
   * there now; the others count since the application started.
   */
  stats(): BackgroundTaskStats {
    return this.runner.stats();
  }

  /**
   * The queued and running tasks: how many of each, and the oldest `limit`
   * of each with their name, origin, age and, when running, how long they
   * have run. A snapshot, cheap enough for a health or admin endpoint.
   *
   * @example
   * ```ts
   * const { queued } = runner.inspect(10);
   * if (queued.tasks[0]?.age > 60_000) logger.warn(`oldest queued task: ${queued.tasks[0].name}`);
   * ```
   */
  inspect(limit = 100): BackgroundTasksSnapshot {
    return this.runner.inspect(limit);
  }

  /**
   * Resolves once no task is queued or running: every task added so far,
   * including those of requests whose responses are still being sent, has
   * ended. In e2e tests, await it after the requests.
   *
   * @example
   * ```ts
   * await request(app.getHttpServer()).post('/signup').expect(201);
   * await app.get(BackgroundTasksMonitor).whenIdle();
   * expect(mailer.sent).toHaveLength(1);
   * ```
   */
  whenIdle(): Promise<void> {
    return this.runner.whenIdle();
  }
}
