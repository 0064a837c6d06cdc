import { Injectable } from '@nestjs/common';
import type { BackgroundTaskStats } from '../interfaces/background-task-stats.interface.js';
import { TaskRunner } from './task-runner.js';

/**
 * The app's runner of background tasks, one per application. Inject it to
 * read its counters, or to wait for the tasks in tests and before closing
 * what they use.
 */
@Injectable()
export class BackgroundTaskRunner {
  constructor(private readonly runner: TaskRunner) {}

  /**
   * A snapshot of the task counters: `queued` and `running` are what is
   * there now; the others count since the application started.
   */
  stats(): BackgroundTaskStats {
    return this.runner.stats();
  }

  /**
   * Resolves once no task is queued or running: every task added so far,
   * including those of requests whose responses are still being sent, has
   * ended. In e2e tests, await it after the requests.
   *
   * @example
   * ```ts
   * await request(app.getHttpServer()).post('/signup').expect(201);
   * await app.get(BackgroundTaskRunner).whenIdle();
   * expect(mailer.sent).toHaveLength(1);
   * ```
   */
  whenIdle(): Promise<void> {
    return this.runner.whenIdle();
  }
}
