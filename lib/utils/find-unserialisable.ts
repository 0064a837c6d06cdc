/** A value that JSON would change on its way to a worker, and where it is. */
export interface Unserialisable {
  /** Where, from the argument: `''` for the argument itself, `.items[3].at` deeper. */
  readonly path: string;
  /** What it is: `a Date`, `a Map`, `NaN`, `a cycle back to .order`, … */
  readonly what: string;
}

/**
 * The first part of `value` that `JSON.stringify` would not carry unchanged,
 * if any. JSON values, arrays and plain objects pass; an `undefined`
 * property passes too (it vanishes, and reads as `undefined` on the other
 * side), but not an `undefined` in an array, which would arrive as `null`.
 * It runs for every task enqueued, so the path is only built for a problem.
 */
export function findUnserialisable(value: unknown): Unserialisable | undefined {
  const ancestors: object[] = [];
  const found = find(value, ancestors);
  if (found === undefined) return undefined;
  const path = found.keys.map(segment).join('');
  if (found.cycleTo === undefined) return { path, what: found.what };
  const target = found.keys.slice(0, found.cycleTo).map(segment).join('');
  return { path, what: `a cycle back to ${target || 'the argument'}` };
}

interface Found {
  what: string;
  /** Keys and indexes from the argument down, filled in on the way back up. */
  keys: Array<string | number>;
  /** For a cycle: how many of `keys` lead to the object it leads back to. */
  cycleTo?: number;
}

function find(value: unknown, ancestors: object[]): Found | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { what: String(value), keys: [] };
    case 'undefined':
      return { what: 'undefined', keys: [] };
    case 'bigint':
      return { what: 'a BigInt', keys: [] };
    case 'symbol':
      return { what: 'a symbol', keys: [] };
    case 'function':
      return { what: 'a function', keys: [] };
  }
  if (value === null) return undefined;
  const object = value as object;
  const depth = ancestors.indexOf(object);
  if (depth !== -1) return { what: '', keys: [], cycleTo: depth };
  if (Array.isArray(object)) {
    ancestors.push(object);
    for (let i = 0; i < object.length; i++) {
      const found = find(object[i], ancestors);
      if (found !== undefined) return within(i, found);
    }
  } else {
    const prototype = Object.getPrototypeOf(object) as object | null;
    if (prototype !== Object.prototype && prototype !== null) return { what: describeInstance(object), keys: [] };
    ancestors.push(object);
    for (const key in object) {
      const property = (object as Record<string, unknown>)[key];
      if (property === undefined) continue;
      const found = find(property, ancestors);
      if (found !== undefined) return within(key, found);
    }
  }
  // A shared object is fine; only one that contains itself is a cycle.
  ancestors.pop();
  return undefined;
}

function within(key: string | number, found: Found): Found {
  found.keys.unshift(key);
  return found;
}

function describeInstance(object: object): string {
  const name = (object.constructor as { name?: string } | undefined)?.name;
  return name ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : 'an instance of a class';
}

function segment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
