/**
 * The moment shutdown gives up on the jobs still running here
 * (`shutdownTimeout`): they go back to the queue, and the handlers of
 * overdue ones are no longer waited for. A promise rather than BullMQ's
 * signal, which a job's `cancelJob()` may have aborted already.
 */
export class ShutdownExpiry {
  expired = false;
  readonly whenExpired: Promise<void>;
  private resolve!: () => void;

  constructor() {
    this.whenExpired = new Promise((resolve) => (this.resolve = resolve));
  }

  expire(): void {
    this.expired = true;
    this.resolve();
  }
}
