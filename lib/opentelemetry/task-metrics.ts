import { metrics, type Attributes, type ObservableResult } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import type { Task, TaskState } from '../core/task.js';
import type { BackgroundTaskStats } from '../interfaces/background-task-stats.interface.js';
import * as names from './names.js';

/** Durations of work done after a response: from milliseconds to minutes. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

type Outcome = Exclude<TaskState, 'queued' | 'running'>;

/** One attribute set per outcome, made once: recording allocates nothing. */
const OUTCOMES: Record<Outcome, Attributes> = {
  succeeded: attribute(names.ATTR_OUTCOME, 'succeeded'),
  failed: attribute(names.ATTR_OUTCOME, 'failed'),
  'timed-out': attribute(names.ATTR_OUTCOME, 'timed-out'),
  dropped: attribute(names.ATTR_OUTCOME, 'dropped'),
  cancelled: attribute(names.ATTR_OUTCOME, 'cancelled'),
  // Handed to the queue backend: its job runs, and is measured, on a worker.
  dispatched: attribute(names.ATTR_OUTCOME, 'dispatched'),
};
const QUEUED = attribute(names.ATTR_STATE, 'queued');
const RUNNING = attribute(names.ATTR_STATE, 'running');
const OVERDUE = attribute(names.ATTR_STATE, 'overdue');

/**
 * The runner's metrics, through the API's global meter. The tasks queued and
 * running are read from the runner's own counters when the metrics are
 * collected, so they equal `stats()`; the rest is recorded as tasks start
 * and end. No task name or path among the attributes: they would make a
 * series per name or per path, where spans carry them.
 */
export class TaskMetrics {
  private readonly meter = metrics.getMeter(names.INSTRUMENTATION_NAME);
  private readonly endedCounter = this.meter.createCounter(names.METRIC_ENDED, {
    unit: '{task}',
    description: 'Background tasks ended: ran to an outcome, or were dropped or cancelled.',
  });
  private readonly duration = this.meter.createHistogram(names.METRIC_DURATION, {
    unit: 's',
    description: 'How long background tasks ran, until they succeeded, failed or timed out.',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  });
  private readonly waitTime = this.meter.createHistogram(names.METRIC_WAIT_TIME, {
    unit: 's',
    description: 'How long background tasks waited, from being added until they started.',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  });
  private readonly count = this.meter.createObservableUpDownCounter(names.METRIC_COUNT, {
    unit: '{task}',
    description: 'Background tasks queued, running, and overdue (timed out, still running) now.',
  });

  constructor(private readonly stats: () => BackgroundTaskStats) {
    this.count.addCallback(this.observeCount);
  }

  started(task: Task): void {
    this.waitTime.record((task.startedAt - task.addedAt) / 1000);
  }

  ended(task: Task): void {
    const outcome = OUTCOMES[task.state as Outcome];
    this.endedCounter.add(1, outcome);
    // A task that did not run to its end here (dropped, cancelled, handed to a queue) has no duration of its own.
    if (task.state === 'succeeded' || task.state === 'failed' || task.state === 'timed-out') {
      this.duration.record((performance.now() - task.startedAt) / 1000, outcome);
    }
  }

  /** The runner has shut down: stop reading it (and let it be collected). */
  close(): void {
    this.count.removeCallback(this.observeCount);
  }

  private readonly observeCount = (result: ObservableResult): void => {
    const { queued, running, overdue } = this.stats();
    result.observe(queued, QUEUED);
    result.observe(running, RUNNING);
    result.observe(overdue, OVERDUE);
  };
}

function attribute(name: string, value: string): Attributes {
  return Object.freeze({ [name]: value });
}
