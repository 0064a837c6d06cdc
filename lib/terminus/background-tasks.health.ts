import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { HEALTH_OPTION, MUST_BE_SHARE, MUST_BE_TIMEOUT, UNKNOWN_OPTION } from '../background-tasks.messages.js';
import { MAX_TIMEOUT } from '../background-tasks.constants.js';
import { TaskRunner } from '../core/task-runner.js';
import { closest } from '../utils/closest.js';

/** When {@link BackgroundTasksHealthIndicator.isHealthy} reports the tasks down. */
export interface BackgroundTasksHealthOptions {
  /**
   * Down when more than this share of `maxQueued` is queued: a number above
   * 0, at most 1. Has no effect when `maxQueued` is `Infinity`.
   *
   * @default 0.9
   */
  readonly maxQueuedShare?: number;
  /**
   * Down when the oldest queued task has waited longer than this, in
   * milliseconds: for a queue that no longer moves.
   *
   * @default Infinity
   */
  readonly maxQueueWait?: number;
}

const OPTION_NAMES = ['maxQueuedShare', 'maxQueueWait'];

/**
 * A `@nestjs/terminus` health indicator for the app's background tasks.
 * Import it from `nestjs-background-tasks/terminus`, so that apps without
 * terminus load nothing of it, and provide it in the module of your health
 * controller, beside `TerminusModule`.
 *
 * @example
 * ```ts
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.backgroundTasks.isHealthy('backgroundTasks', { maxQueueWait: 60_000 })]);
 * }
 * ```
 */
@Injectable()
export class BackgroundTasksHealthIndicator {
  constructor(
    private readonly runner: TaskRunner,
    private readonly health: HealthIndicatorService,
  ) {}

  /**
   * Up, with the counts and the oldest queued task in its details; down when
   * more tasks wait, or the oldest has waited longer, than the thresholds allow.
   *
   * @throws {TypeError} when an option is invalid.
   */
  isHealthy(key = 'backgroundTasks', options: BackgroundTasksHealthOptions = {}): HealthIndicatorResult {
    const { maxQueuedShare, maxQueueWait } = checkOptions(options);
    const { queued, running } = this.runner.inspect(1);
    const { maxQueued } = this.runner.options;
    const oldest = queued.tasks[0];
    const details = {
      queued: queued.total,
      running: running.total,
      ...(maxQueued !== Infinity && { maxQueued }),
      ...(oldest !== undefined && {
        oldestQueued: {
          name: oldest.name,
          age: Math.round(oldest.age),
          transport: oldest.transport,
          method: oldest.method,
          path: oldest.path,
        },
      }),
    };
    const indicator = this.health.check(key);
    if (queued.total > maxQueuedShare * maxQueued) {
      return indicator.down({ ...details, message: `More than ${maxQueuedShare * 100}% of maxQueued is queued.` });
    }
    if (oldest !== undefined && oldest.age > maxQueueWait) {
      return indicator.down({ ...details, message: `The oldest queued task has waited over ${maxQueueWait} ms.` });
    }
    return indicator.up(details);
  }
}

function checkOptions(options: BackgroundTasksHealthOptions): Required<BackgroundTasksHealthOptions> {
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new TypeError(
        UNKNOWN_OPTION('BackgroundTasksHealthIndicator.isHealthy()', key, closest(key, OPTION_NAMES), OPTION_NAMES),
      );
    }
  }
  const { maxQueuedShare = 0.9, maxQueueWait = Infinity } = options;
  if (typeof maxQueuedShare !== 'number' || !(maxQueuedShare > 0 && maxQueuedShare <= 1)) {
    throw new TypeError(HEALTH_OPTION('maxQueuedShare', MUST_BE_SHARE(maxQueuedShare)));
  }
  if (maxQueueWait !== Infinity && !(typeof maxQueueWait === 'number' && maxQueueWait >= 0 && maxQueueWait <= MAX_TIMEOUT)) {
    throw new TypeError(HEALTH_OPTION('maxQueueWait', MUST_BE_TIMEOUT(true, MAX_TIMEOUT, maxQueueWait)));
  }
  return { maxQueuedShare, maxQueueWait };
}
