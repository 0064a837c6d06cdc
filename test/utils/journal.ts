import { expect } from '@jest/globals';

/** How often `entry` is in the journal. */
export function count(journal: readonly string[], entry: string): number {
  return journal.filter((e) => e === entry).length;
}

/** Each entry is in the journal exactly once, in this order (other entries may come in between). */
export function expectInOrder(journal: readonly string[], entries: readonly string[]): void {
  const positions = entries.map((entry) => journal.indexOf(entry));
  expect(entries.map((entry) => count(journal, entry))).toEqual(entries.map(() => 1));
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
}
