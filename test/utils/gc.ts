import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Runs full garbage collections until `ref` is cleared, or gives up. */
export async function collectedWithin(ref: WeakRef<object>, attempts = 20): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    // Let pending callbacks drop their references first.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    if (ref.deref() === undefined) return true;
  }
  return false;
}
