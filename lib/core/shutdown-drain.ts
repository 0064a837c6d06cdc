import { performance } from 'node:perf_hooks';
import { SHUTDOWN_DRAINED, SHUTDOWN_EXPIRED, SHUTDOWN_WAITING } from '../background-tasks.messages.js';
import type { TaskReporter } from './task-reporter.js';
import type { TaskStates } from './task-states.js';

/**
 * Waits for the tasks at shutdown, in Nest's two phases, within one
 * `shutdownTimeout` for both: first for the tasks of requests that are done,
 * then, once the HTTP server has closed, for those of requests that were
 * still in flight. At the deadline, it names what is left and has the runner
 * abandon it. Each phase runs once, however many imports of the module call it.
 */
export class ShutdownDrain {
  /** `Date.now()` at which both phases give up. */
  private deadline?: number;
  /** When it started waiting, if it had to. */
  private waitStart?: number;
  private releasedDrained?: Promise<void>;
  private drained?: Promise<void>;

  constructor(
    private readonly states: TaskStates,
    private readonly reporter: TaskReporter,
    private readonly timeout: number,
    /** Aborts what runs and drops what waits. */
    private readonly abandon: () => void,
  ) {}

  /** The first phase: the tasks of settled batches. */
  drainReleased(): Promise<void> {
    return (this.releasedDrained ??= this.waitForIdle(this.states.isReleasedIdle).then(() => undefined));
  }

  /** The second phase: every task. */
  drainAll(): Promise<void> {
    return (this.drained ??= this.waitForIdle(this.states.isIdle).then((idle) => this.report(idle)));
  }

  private report(idle: boolean): void {
    if (!idle) {
      const { running, overdue, queued } = this.states.inspect(Infinity);
      this.reporter.warn(SHUTDOWN_EXPIRED(this.timeout, [...running.tasks, ...overdue.tasks, ...queued.tasks]));
      this.abandon();
    } else if (this.waitStart !== undefined) {
      this.reporter.log(SHUTDOWN_DRAINED(Math.round(performance.now() - this.waitStart)));
    }
  }

  /** Resolves `true` once idle, or `false` at the deadline. */
  private async waitForIdle(isIdle: () => boolean): Promise<boolean> {
    this.deadline ??= Date.now() + this.timeout;
    if (isIdle()) return true;
    if (this.waitStart === undefined) {
      this.waitStart = performance.now();
      const { queued, running, overdue } = this.states.stats();
      this.reporter.log(SHUTDOWN_WAITING(queued + running + overdue, running + overdue, this.timeout));
    }
    const idle = this.states.whenIdle(isIdle).then(() => true as const);
    const remaining = this.deadline - Date.now();
    if (remaining === Infinity) return idle;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, remaining), false);
    });
    try {
      return await Promise.race([idle, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
