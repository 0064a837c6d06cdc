import { afterEach, beforeEach, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { flush, type ProcessWatch, watchProcess } from './process-watch.js';

/** What each unit test of the runner is watched through. */
export interface UnitWatch {
  readonly error: jest.SpiedFunction<Logger['error']>;
  readonly warn: jest.SpiedFunction<Logger['warn']>;
  readonly process: ProcessWatch;
  /** Messages of the `Logger#error` calls, in order. */
  errorMessages(): string[];
  /** Messages of the `Logger#warn` calls, in order. */
  warnMessages(): string[];
}

/**
 * Silences and records Nest's `Logger` during each test, and fails a test
 * that leaves an unhandled rejection or an uncaught exception behind.
 */
export function watchEachTest(): UnitWatch {
  let error: UnitWatch['error'];
  let warn: UnitWatch['warn'];
  let process: ProcessWatch;
  beforeEach(() => {
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    process = watchProcess();
  });
  afterEach(async () => {
    // Anything a test left behind gets a chance to blow up while still watched.
    await flush();
    process.stop();
    error.mockRestore();
    warn.mockRestore();
    expect(process.unhandledRejections).toEqual([]);
    expect(process.uncaughtExceptions).toEqual([]);
  });
  return {
    get error() {
      return error;
    },
    get warn() {
      return warn;
    },
    get process() {
      return process;
    },
    errorMessages: () => error.mock.calls.map((call) => String(call[0])),
    warnMessages: () => warn.mock.calls.map((call) => String(call[0])),
  };
}
