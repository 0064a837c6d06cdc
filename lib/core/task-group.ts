import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A part of a request with an outcome of its own, such as one GraphQL field's
 * resolver: the tasks added while it runs (in anything it calls, across
 * `await`) are dropped if it fails, unless `always`, even when the request
 * as a whole succeeds.
 */
export class TaskGroup {
  private hasFailed = false;

  /** Read when the request settles, and for each task added later. */
  get failed(): boolean {
    return this.hasFailed;
  }

  fail(): void {
    this.hasFailed = true;
  }
}

const activeGroup = new AsyncLocalStorage<TaskGroup>();
/** Until a group is entered, `addTask` pays only this check: plain HTTP apps never enter one. */
let groupsEntered = false;

/** Runs `fn`, and what it starts, in `group`. */
export function runInGroup<T>(group: TaskGroup, fn: () => T): T {
  groupsEntered = true;
  return activeGroup.run(group, fn);
}

/** The group of the code running now, if any. */
export function currentGroup(): TaskGroup | undefined {
  return groupsEntered ? activeGroup.getStore() : undefined;
}
