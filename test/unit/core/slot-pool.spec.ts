import { SlotPool } from '../../../lib/core/slot-pool.js';
import { flush } from '../../utils/process-watch.js';

describe('SlotPool', () => {
  function pool(size: number) {
    const granted: string[] = [];
    return { granted, slots: new SlotPool<string>(size, (waiter) => void granted.push(waiter)) };
  }

  it('takes free slots up to its size, then refuses', () => {
    const { slots } = pool(2);
    expect([slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, false]);
  });

  it('passes a slot given back to the oldest waiter, on a microtask, so that nothing takes it in between', async () => {
    const { slots, granted } = pool(1);
    slots.tryTake();
    slots.wait('a');
    slots.wait('b');
    slots.free();
    expect(granted).toEqual([]); // not on the stack of whoever gave it back
    expect(slots.tryTake()).toBe(false);
    await flush();
    expect(granted).toEqual(['a']);
    slots.free();
    await flush();
    expect(granted).toEqual(['a', 'b']);
    slots.free(); // no waiter left: the slot is free again
    expect(slots.tryTake()).toBe(true);
  });

  it('never runs more than its size: every waiter gets a slot once, in order, however many wait', async () => {
    const { slots, granted } = pool(3);
    const waiters = Array.from({ length: 5_000 }, (_, i) => `w${i}`);
    while (slots.tryTake());
    for (const waiter of waiters) slots.wait(waiter);
    for (let i = 0; i < waiters.length; i++) {
      slots.free();
      await flush(1);
    }
    expect(granted).toEqual(waiters);
    for (let i = 0; i < 3; i++) slots.free();
    expect([slots.tryTake(), slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, true, false]);
  });

  it('with size Infinity never makes anyone wait', () => {
    const { slots } = pool(Infinity);
    for (let i = 0; i < 10_000; i++) expect(slots.tryTake()).toBe(true);
  });
});
