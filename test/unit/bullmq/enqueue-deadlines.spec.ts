import { jest } from '@jest/globals';
import { EnqueueDeadlines } from '../../../lib/bullmq/enqueue-deadlines.js';

describe('EnqueueDeadlines', () => {
  interface Entry {
    id: number;
    deadline: number;
    decided: boolean;
  }
  let expired: { id: number; late: boolean }[];
  let deadlines: EnqueueDeadlines<Entry>;
  const entry = (id: number, timeout: number): Entry => ({ id, deadline: performance.now() + timeout, decided: false });
  const watch = (id: number, timeout: number) => {
    const watched = entry(id, timeout);
    deadlines.watch(watched);
    return watched;
  };

  beforeEach(() => {
    jest.useFakeTimers();
    expired = [];
    deadlines = new EnqueueDeadlines((expiring) => {
      expiring.decided = true;
      expired.push({ id: expiring.id, late: performance.now() >= expiring.deadline });
    });
  });
  afterEach(() => jest.useRealTimers());

  it('expires each pending enqueue at its deadline, never before, in order, with one timer for all', () => {
    for (let id = 1; id <= 100; id++) {
      watch(id, 1000);
      jest.advanceTimersByTime(5);
      expect(jest.getTimerCount()).toBe(1);
    }
    jest.advanceTimersByTime(499);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired.map(({ id }) => id)).toEqual([1]);
    jest.advanceTimersByTime(1000);
    expect(expired.map(({ id }) => id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(expired.every(({ late }) => late)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('skips the enqueues that decided in time, and stops when none is left', () => {
    const first = watch(1, 100);
    jest.advanceTimersByTime(10);
    watch(2, 100);
    const third = watch(3, 100);
    first.decided = true;
    third.decided = true;
    jest.advanceTimersByTime(200);
    expect(expired.map(({ id }) => id)).toEqual([2]);
    expect(jest.getTimerCount()).toBe(0);
    // Watching again after that starts a timer again.
    watch(4, 50);
    jest.advanceTimersByTime(50);
    expect(expired.map(({ id }) => id)).toEqual([2, 4]);
  });

  it('keeps many decided enqueues only until the timer next fires', () => {
    const settledOnes = Array.from({ length: 5000 }, (_, id) => watch(id, 100));
    for (const decided of settledOnes) decided.decided = true;
    const last = watch(5000, 300);
    jest.advanceTimersByTime(100);
    expect(expired).toEqual([]);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(200);
    expect(expired).toEqual([{ id: last.id, late: true }]);
  });

  it('does not keep the process alive by itself', () => {
    jest.useRealTimers();
    const before = process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    const pending = watch(1, 60_000);
    expect(process.getActiveResourcesInfo().filter((type) => type === 'Timeout')).toHaveLength(before);
    pending.decided = true;
  });
});
