import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A part of a request with an outcome of its own, such as one GraphQL field's
 * resolver: the tasks added while it runs (in anything it calls, across
 * `await`) are dropped if it fails, unless `always`, even when the request
 * as a whole succeeds.
 */
export class TaskScope {
  private hasFailed = false;

  /** Read when the request settles, and for each task added later. */
  get failed(): boolean {
    return this.hasFailed;
  }

  fail(): void {
    this.hasFailed = true;
  }
}

const activeScope = new AsyncLocalStorage<TaskScope>();
/** Until a scope is entered, `addTask` pays only this check: plain HTTP apps never enter one. */
let scopesEntered = false;

/** Runs `fn`, and what it starts, in `scope`. */
export function runInScope<T>(scope: TaskScope, fn: () => T): T {
  scopesEntered = true;
  return activeScope.run(scope, fn);
}

/** The scope of the code running now, if any. */
export function currentScope(): TaskScope | undefined {
  return scopesEntered ? activeScope.getStore() : undefined;
}
