/**
 * The `concurrency` slots that running tasks take: a task starts only with
 * one, and keeps it until its body returns (a task past its timeout too).
 * Waiters get the slots in the order they asked.
 */
export class SlotPool<Waiter> {
  private taken = 0;
  /** Granted ones are cleared, so that nothing keeps a task that has started. */
  private waiters: Array<Waiter | undefined> = [];
  /** Index of the oldest waiter: shifting a long array on every grant would copy it. */
  private head = 0;

  /**
   * @param granted called with a slot taken for a waiter, on a microtask of
   *   its own, so that a line of sync tasks never deepens the stack.
   */
  constructor(
    private readonly size: number,
    private readonly granted: (waiter: Waiter) => void,
  ) {}

  /** Takes a free slot, if there is one. */
  tryTake(): boolean {
    if (this.taken >= this.size) return false;
    this.taken++;
    return true;
  }

  /** Grants a slot to `waiter` once one is free. */
  wait(waiter: Waiter): void {
    this.waiters.push(waiter);
  }

  /** Gives a slot back; the oldest waiter, if any, gets it at once, so that nothing can take it in between. */
  free(): void {
    if (this.head === this.waiters.length) {
      this.taken--;
      return;
    }
    const waiter = this.waiters[this.head]!;
    this.waiters[this.head++] = undefined;
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
    queueMicrotask(() => this.granted(waiter));
  }
}
