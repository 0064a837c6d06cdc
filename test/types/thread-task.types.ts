/**
 * Compile-only type test of thread tasks at the call site: checked by
 * `tsc -p tsconfig.json`, never run. Each `@ts-expect-error` line has exactly
 * one error, for the reason stated above it.
 */
import type { AppBackgroundTasks, BackgroundTasks } from '../../lib/index.js';
import { threadTask } from '../../lib/threads/index.js';

declare const tasks: BackgroundTasks;
declare const appTasks: AppBackgroundTasks;

const makeThumbnail = threadTask(import.meta.url, function makeThumbnail(path: string, size: number) {
  return `${path}@${size}`;
});
const hash = threadTask(import.meta.url, async (data: Uint8Array) => data.length, { transfer: true });

tasks.addTask(makeThumbnail, '/tmp/a.png', 200);
tasks.addTask(hash, new Uint8Array(8));
tasks.addTaskWithOptions({ name: 'thumb', timeout: 5_000 }, makeThumbnail, '/tmp/a.png', 200);
appTasks.addTask(makeThumbnail, '/tmp/a.png', 200);
appTasks.addTaskWithOptions({ timeout: 1_000 }, hash, new Uint8Array(8));

// Arguments are checked against the task function's parameters.
// @ts-expect-error size must be a number
tasks.addTask(makeThumbnail, '/tmp/a.png', '200');
// @ts-expect-error size is missing
tasks.addTask(makeThumbnail, '/tmp/a.png');
// @ts-expect-error a string is no Uint8Array
tasks.addTaskWithOptions({ name: 'hash' }, hash, 'data');

// A handle is passed, not called: its function runs in a thread.
// @ts-expect-error a ThreadTask has no call signature
makeThumbnail('/tmp/a.png', 200);
