import { expect } from '@jest/globals';
import {
  type BackgroundTaskEvent,
  type BackgroundTaskList,
  type BackgroundTasksMonitor,
  BackgroundTasksModule,
  type BackgroundTasksModuleOptions,
  type BackgroundTasksSnapshot,
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
export function expectStats(runner: BackgroundTasksMonitor, counts: Partial<BackgroundTaskStats>): void {
  const actual = runner.stats();
  expect(actual).toEqual(stats(counts));
  const { queued, running, succeeded, failed, timedOut, dropped, cancelled } = actual;
  expect(queued + running + succeeded + failed + timedOut + dropped + cancelled).toBe(taskRecord.queued);
}

/** What the waits below read: the public runner, or the internal one. */
interface Runner {
  whenIdle(): Promise<void>;
  stats(): BackgroundTaskStats;
  inspect(limit: number): BackgroundTasksSnapshot;
}

/**
 * Awaits `runner.whenIdle()`, failing after a deadline instead of at Jest's
 * timeout, with the stats and the tasks still there.
 */
export function idle(runner: Runner, timeout?: number, what = 'whenIdle() to resolve'): Promise<void> {
  return within(() => `${what}; stats: ${JSON.stringify(runner.stats())}; ${leftOver(runner)}`, runner.whenIdle(), timeout);
}

/**
 * How long a test gives a message's tasks, once its answer has arrived, to be
 * released (one macrotask after the answer) and to run.
 */
export const RELEASE_DEADLINE = 2000;

/**
 * Awaits the tasks of messages whose answers have arrived. Tasks that a bug
 * never releases stay queued until shutdown: this fails in seconds instead,
 * naming them.
 */
export function released(runner: Runner, whose: string): Promise<void> {
  return idle(runner, RELEASE_DEADLINE, `${whose} to be released and run`);
}

/**
 * A `shutdownTimeout` for suites in which no test needs close() to wait for
 * a task: tasks that a bug leaves queued hold each test's close() this long,
 * not the default 10 s, and shutdown's warning names them.
 */
export const SHORT_SHUTDOWN_TIMEOUT = 1000;

/** The oldest tasks still queued and running, by name and origin. */
function leftOver(runner: Runner): string {
  const { queued, running } = runner.inspect(3);
  const list = ({ total, tasks }: BackgroundTaskList) => {
    if (total === 0) return 'none';
    const named = tasks.map(({ name, method, path }) => `"${name}" (${method} ${path})`).join(', ');
    return total > tasks.length ? `${named}, … ${total} in all` : named;
  };
  return `still queued: ${list(queued)}; running: ${list(running)}`;
}
