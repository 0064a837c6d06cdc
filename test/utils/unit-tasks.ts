import { expect } from '@jest/globals';
import { HOOK_NAMES, type HookName } from '../../lib/core/runner-options.js';
import type { BackgroundTaskEvent, BackgroundTaskHook } from '../../lib/interfaces/index.js';
import { flush } from './process-watch.js';
import { deferred } from './wait-for.js';

/** Helpers of the unit specs of the runner core and of the HTTP path. */

/** Resolves when the signal is aborted. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Async tasks that record their start and end, and end only when the test
 * opens their gate. Each task function is named after its task, so events
 * carry that name.
 */
export class GatedTasks {
  readonly started: string[] = [];
  readonly ended: string[] = [];
  maxRunning = 0;
  private running = 0;
  private readonly gates = new Map<string, ReturnType<typeof deferred>>();

  /** `onStart` runs inside each task as it starts, when the most tasks run. */
  constructor(private readonly onStart?: () => void) {}

  task(name: string): () => Promise<void> {
    const fn = async () => {
      this.started.push(name);
      this.maxRunning = Math.max(this.maxRunning, ++this.running);
      this.onStart?.();
      await this.gate(name).promise;
      this.running--;
      this.ended.push(name);
    };
    return Object.defineProperty(fn, 'name', { value: name });
  }

  open(...names: string[]): void {
    for (const name of names) this.gate(name).resolve(undefined);
  }

  private gate(name: string): ReturnType<typeof deferred> {
    let gate = this.gates.get(name);
    if (gate === undefined) this.gates.set(name, (gate = deferred()));
    return gate;
  }
}

export type HookCall = [HookName, BackgroundTaskEvent];

/**
 * Every lifecycle hook, recording its calls in one list, in order. With
 * `fails`, each hook also throws, or returns a rejected promise, afterwards.
 */
export function recordHooks(fails?: 'throws' | 'rejects') {
  const calls: HookCall[] = [];
  const hooks: Partial<Record<HookName, BackgroundTaskHook>> = {};
  for (const hook of HOOK_NAMES) {
    hooks[hook] = (event) => {
      calls.push([hook, event]);
      if (fails === 'throws') throw new Error(`${hook} broke`);
      if (fails === 'rejects') return flush(1).then(() => Promise.reject(new Error(`${hook} broke`)));
    };
  }
  /** The events one hook received. */
  const of = (hook: HookName) => calls.filter(([name]) => name === hook).map(([, event]) => event);
  /** "hook name" for each call, for order checks that leave the events out. */
  const sequence = () => calls.map(([hook, event]) => `${hook} ${event.name}`);
  return { calls, hooks, of, sequence };
}

/** Builds the events of one request, for exact comparisons. */
export function eventsOf(method: string, path: string) {
  return (name: string, args: unknown[] = [], details: Partial<BackgroundTaskEvent> = {}): BackgroundTaskEvent => ({
    name,
    args,
    transport: 'http',
    method,
    path,
    ...details,
  });
}

/** Checks the duration of every event that has one: a number, never negative. */
export function expectSaneDurations(calls: HookCall[]): void {
  for (const [, { duration }] of calls) {
    if (duration !== undefined) expect(duration).toBeGreaterThanOrEqual(0);
  }
}

/** A function of that name, which records the name when called. */
export function named(name: string, ran: string[]): () => void {
  return Object.defineProperty(() => void ran.push(name), 'name', { value: name });
}
