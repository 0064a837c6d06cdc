import { threadTask } from 'nestjs-background-tasks/threads';
import { writeLog } from '../log.js';

/**
 * Beyond FastAPI's event loop: CPU work, in plain JavaScript, in a worker
 * thread. FastAPI runs a plain `def` task in its thread pool; here the task
 * lives in a module of its own, which each thread loads, and the handle that
 * `threadTask()` makes is what the controller passes to `addTask()`. On the
 * event loop, these rounds would stall every other request for their whole
 * run; in a thread, the app keeps answering.
 */
export const hashText = threadTask(import.meta.url, async function hashText(text: string, rounds: number) {
  // FNV-1a, again and again over the text: a stand-in for a password hash, a thumbnail or a PDF.
  let digest = 0x811c9dc5;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < text.length; i++) digest = Math.imul(digest ^ text.charCodeAt(i), 0x01000193) >>> 0;
    digest = (digest ^ round) >>> 0;
  }
  await writeLog(`hash of ${text}: ${digest.toString(16).padStart(8, '0')}`);
});
