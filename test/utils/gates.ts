import { deferred } from './wait-for.js';

/**
 * Named gates for fixtures: `pass(name)` resolves at once unless the test
 * has called `hold(name)`, in which case it waits until `open(name)`. Lets
 * one fixture serve both the tests that hold a task or handler open and the
 * bulk tests that must not wait.
 */
export class Gates {
  private readonly held = new Map<string, ReturnType<typeof deferred<void>>>();

  hold(name: string): void {
    if (!this.held.has(name)) this.held.set(name, deferred());
  }

  pass(name: string): Promise<void> {
    return this.held.get(name)?.promise ?? Promise.resolve();
  }

  open(name: string): void {
    this.held.get(name)?.resolve();
  }

  /** Opens and forgets every gate, so that nothing of a finished test is left hanging. */
  clear(): void {
    for (const gate of this.held.values()) gate.resolve();
    this.held.clear();
  }
}
