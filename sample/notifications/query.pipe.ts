import { Injectable, type PipeTransform } from '@nestjs/common';
import { BackgroundTasks } from 'nestjs-background-tasks';
import { writeLog } from '../log.js';

/**
 * FastAPI's `get_query` dependency, as a pipe for the `q` query parameter:
 *
 *     def get_query(background_tasks: BackgroundTasks, q: str | None = None):
 *         if q:
 *             background_tasks.add_task(write_log, f"found query: {q}\n")
 *         return q
 *
 * Injecting BackgroundTasks makes the pipe request-scoped (a new one per
 * request), and it gets the same instance as the handler it runs for.
 */
@Injectable()
export class QueryPipe implements PipeTransform<string | undefined, string | undefined> {
  constructor(private readonly tasks: BackgroundTasks) {}

  transform(q: string | undefined): string | undefined {
    if (q) {
      this.tasks.addTask(writeLog, `found query: ${q}`);
    }
    return q;
  }
}
