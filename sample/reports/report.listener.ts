import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { AppBackgroundTasks } from 'nestjs-background-tasks';
import { writeLog } from '../log.js';

/**
 * Beyond FastAPI: work deferred from code that has no request of its own,
 * here an event listener (a `@Cron()` job would do the same). AppBackgroundTasks
 * is the app's, not a request's: its task starts as soon as the runner has a
 * slot, and counts, logs and shuts down like the others.
 */
@Injectable()
export class ReportListener {
  constructor(private readonly tasks: AppBackgroundTasks) {}

  @OnEvent('report.requested')
  onReportRequested(requestedAt: string): void {
    // Named: a request for a report while one is still queued replaces it.
    this.tasks.addTaskWithOptions({ name: 'report' }, (_context, at: string) => writeLog(`report of ${at}`), requestedAt);
  }
}
