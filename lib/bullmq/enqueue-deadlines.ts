/** An enqueue under a deadline (a `performance.now()` time). */
export interface Deadlined {
  readonly deadline: number;
  readonly decided: boolean;
}

/**
 * Expires pending enqueues at their deadlines with one timer for all, not
 * one per job: every deadline is `enqueueTimeout` after its enqueue began,
 * so they come in order, and the timer only ever waits for the oldest.
 * Settled enqueues are skipped when the timer fires, never searched for.
 */
export class EnqueueDeadlines<T extends Deadlined> {
  private watched: T[] = [];
  private next = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly expire: (enqueue: T) => void) {}

  watch(enqueue: T): void {
    this.watched.push(enqueue);
    if (this.timer === undefined) this.arm(enqueue.deadline);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const { watched } = this;
    while (this.next < watched.length) {
      const enqueue = watched[this.next];
      if (!enqueue.decided && enqueue.deadline > now) return this.arm(enqueue.deadline);
      this.next++;
      if (!enqueue.decided) this.expire(enqueue);
    }
    this.watched = [];
    this.next = 0;
  };

  private arm(deadline: number): void {
    if (this.next > 1024 && this.next * 2 > this.watched.length) {
      this.watched = this.watched.slice(this.next);
      this.next = 0;
    }
    // Timers round down to whole milliseconds; a deadline is never met early.
    this.timer = setTimeout(this.fire, Math.max(Math.ceil(deadline - performance.now()), 1));
    // A pending add holds its connection open; this timer alone keeps no process alive.
    this.timer.unref();
  }
}
