import { flush, watchProcess } from '../utils/process-watch.js';
import { watchEachTest } from '../utils/unit-watch.js';
import { deferred, waitFor, within } from '../utils/wait-for.js';

/** The helpers the other tests rely on, shown to catch what they are meant to catch. */

const watched = watchEachTest();

describe('the process watch used by the unit tests', () => {
  it('sees an unhandled rejection (so that an empty watch means something)', async () => {
    const local = watchProcess();
    try {
      const error = new Error('deliberately unhandled for a moment');
      const rejected = Promise.reject(error);
      await waitFor('the watch to see the rejection', () => local.unhandledRejections.length === 1);
      expect(local.unhandledRejections).toEqual([error]);
      // Handle it now, so that neither Jest nor the shared watch counts it.
      rejected.catch(() => undefined);
      await flush();
    } finally {
      local.stop();
    }
    watched.process.unhandledRejections.length = 0;
  });
});

describe('within()', () => {
  it('resolves like the promise when it settles in time', async () => {
    await expect(within('a value', Promise.resolve(7), 1_000)).resolves.toBe(7);
    await expect(within('a failure', Promise.reject(new Error('no')), 1_000)).rejects.toThrow('no');
  });

  it('fails with a clear message, describing the state at the deadline, when it does not', async () => {
    const never = deferred();
    let state = 'before';
    const waiting = within(() => `the gate; state: ${state}`, never.promise, 20);
    state = 'at the deadline';
    await expect(waiting).rejects.toThrow('Timed out after 20 ms waiting for the gate; state: at the deadline');
  });
});
