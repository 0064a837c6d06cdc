import { SHUTTING_DOWN, TASK_TIMEOUT_ERROR } from '../background-tasks.messages.js';
import type { TaskHandler } from '../core/task-handlers.js';
import type { JobData } from './job-data.js';
import type { ShutdownExpiry } from './shutdown-expiry.js';

/**
 * One call of a job's handler on its provider, with a signal of its own:
 * aborted at the task's timeout, and when BullMQ's signal is (by
 * `cancelJob()`, or at shutdown). Its outcome is known at the abort; its
 * body, which may ignore the signal, is followed apart, since the job keeps
 * its worker's slot until the body has returned.
 */
export class HandlerCall {
  /** Settles as the handler does, or rejects with the abort's reason as soon as its signal is aborted. */
  readonly outcome: Promise<unknown>;
  /** The task's timeout, once it has aborted the signal. */
  timedOutAfter?: number;
  private readonly controller = new AbortController();
  private readonly body: Promise<unknown>;
  private returned = false;
  private timer?: NodeJS.Timeout;

  constructor(
    handler: TaskHandler,
    data: JobData,
    private readonly jobSignal: AbortSignal | undefined,
    private readonly shutdown: ShutdownExpiry,
  ) {
    const { signal } = this.controller;
    // Before the handler's own listeners: the attempt fails with the abort's reason, not with what the handler throws then.
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(this.timer);
          reject(asError(signal.reason));
        },
        { once: true },
      );
    });
    jobSignal?.addEventListener('abort', this.forward, { once: true });
    const { timeout } = data;
    if (timeout !== undefined) this.timer = setTimeout(() => this.timeOut(data.name ?? handler.name, timeout), timeout);
    const fn = handler.fn as (...args: unknown[]) => unknown;
    const args = data.context ? [{ signal, name: data.name ?? handler.name }, ...data.args] : [...data.args];
    this.body = Promise.resolve().then(() => fn.apply(handler.instance, args));
    const ended = () => {
      this.returned = true;
      clearTimeout(this.timer);
      this.jobSignal?.removeEventListener('abort', this.forward);
    };
    this.body.then(ended, ended);
    this.outcome = Promise.race([this.body, aborted]);
  }

  /**
   * Whether the body has returned, a turn of the event loop after its
   * signal was aborted: a handler that honours its signal has by then.
   */
  async returnsSoon(): Promise<boolean> {
    if (!this.returned) await new Promise(setImmediate);
    return this.returned;
  }

  /** Resolves once the body has returned, or once shutdown gives up on it. */
  released(): Promise<unknown> {
    const returned = this.body.then(
      () => undefined,
      () => undefined,
    );
    return Promise.race([returned, this.shutdown.whenExpired]);
  }

  /** The handler sees the reason given to cancelJob() as it was given, and at shutdown what it would see in-process. */
  private readonly forward = (): void => {
    this.controller.abort(this.shutdown.expired ? new DOMException(SHUTTING_DOWN, 'AbortError') : this.jobSignal!.reason);
  };

  private timeOut(name: string, timeout: number): void {
    this.timedOutAfter = timeout;
    this.controller.abort(new DOMException(TASK_TIMEOUT_ERROR(name, timeout), 'TimeoutError'));
  }
}

/** BullMQ records a failure by its message: a bare reason becomes an Error (a DOMException is one). */
export function asError(reason: unknown): Error {
  if (typeof (reason as Error | undefined)?.message === 'string') return reason as Error;
  return new Error(typeof reason === 'string' ? reason : SHUTTING_DOWN);
}
