import { expect } from '@jest/globals';
import {
  type BackgroundTaskEvent,
  type BackgroundTaskRunner,
  BackgroundTasksModule,
  type BackgroundTasksModuleOptions,
  type BackgroundTaskStats,
} from '../../lib/index.js';
import { within } from './wait-for.js';

/** An event without what varies from run to run. */
export type Seen = Omit<BackgroundTaskEvent, 'duration' | 'error'>;

/** What the hooks of the apps of a test file saw: tasks accepted, and which succeeded or were dropped. */
export const taskRecord = { queued: 0, succeeded: [] as Seen[], dropped: [] as Seen[] };

export function resetTaskRecord(): void {
  taskRecord.queued = 0;
  taskRecord.succeeded.length = 0;
  taskRecord.dropped.length = 0;
}

const seen = ({ duration: _duration, error: _error, ...event }: BackgroundTaskEvent): Seen => event;

/** The module, with hooks that write into `taskRecord`. */
export function tasksModule(options: BackgroundTasksModuleOptions = {}) {
  return BackgroundTasksModule.forRoot({
    onTaskQueued: () => void taskRecord.queued++,
    onTaskSucceeded: (event) => void taskRecord.succeeded.push(seen(event)),
    onTaskDropped: (event) => void taskRecord.dropped.push(seen(event)),
    ...options,
  });
}

/** stats() with every counter not given at zero, to compare exactly. */
export function stats(counts: Partial<BackgroundTaskStats> = {}): BackgroundTaskStats {
  return { queued: 0, running: 0, overdue: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, cancelled: 0, ...counts };
}

/** Exact stats, and every task ever accepted accounted for: waiting, running, or by exactly one end. */
export function expectStats(runner: BackgroundTaskRunner, counts: Partial<BackgroundTaskStats>): void {
  const actual = runner.stats();
  expect(actual).toEqual(stats(counts));
  const { queued, running, succeeded, failed, timedOut, dropped, cancelled } = actual;
  expect(queued + running + succeeded + failed + timedOut + dropped + cancelled).toBe(taskRecord.queued);
}

/** Awaits `runner.whenIdle()` (of the public runner, or of the internal one), failing after a deadline instead of at Jest's timeout. */
export function idle(runner: Pick<BackgroundTaskRunner, 'whenIdle' | 'stats'>, timeout?: number): Promise<void> {
  return within(() => `whenIdle() to resolve; stats: ${JSON.stringify(runner.stats())}`, runner.whenIdle(), timeout);
}
