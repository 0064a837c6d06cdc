// The thread tasks of bench/threads.mjs: a module of their own, which each
// worker thread loads.
import { threadTask } from '../dist/threads/index.js';

/** Burns `ms` of CPU, as a thumbnail, a hash or a PDF would. */
export function burn(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

export const burnInThread = threadTask(import.meta.url, burn);

/** Does nothing: what dispatching a thread task costs, and nothing else. */
export const nothingInThread = threadTask(import.meta.url, function nothing() {});
