/**
 * Polls `probe` until it returns something other than `undefined`/`false`,
 * and fails with `what` once `timeout` ms have passed.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeout = SIDE_EFFECT_DEADLINE,
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** How long a test waits for a side effect (a task to run, the runner to become idle) before failing. */
export const SIDE_EFFECT_DEADLINE = 5000;

/**
 * Resolves like `promise`, or fails naming `what` once `timeout` ms have
 * passed (a function is called then, to describe the state at that moment):
 * a wait that a bug makes endless fails in seconds, with a message, rather
 * than at Jest's timeout.
 */
export async function within<T>(what: string | (() => string), promise: Promise<T>, timeout = SIDE_EFFECT_DEADLINE): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const description = typeof what === 'function' ? what() : what;
      reject(new Error(`Timed out after ${timeout} ms waiting for ${description}`));
    }, timeout);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise with its resolve function, to hold a task or handler open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Tracks whether a promise has settled, without awaiting it. */
export function track(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

/**
 * For checks that something has NOT happened yet, where no side effect can be
 * awaited: gives a wrongly early promise (a close() that does not wait) the
 * event-loop turns it would need to settle. It cannot make a test flaky.
 */
export function letWrongOutcomeShow(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}
