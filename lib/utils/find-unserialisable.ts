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
 */
export function findUnserialisable(value: unknown, path = '', seen: Map<object, string> = new Map()): Unserialisable | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, what: String(value) };
    case 'undefined':
      return { path, what: 'undefined' };
    case 'bigint':
      return { path, what: 'a BigInt' };
    case 'symbol':
      return { path, what: 'a symbol' };
    case 'function':
      return { path, what: 'a function' };
  }
  if (value === null) return undefined;
  const object = value as object;
  const earlier = seen.get(object);
  if (earlier !== undefined) return { path, what: `a cycle back to ${earlier || 'the argument'}` };
  if (Array.isArray(object)) {
    seen.set(object, path);
    for (let i = 0; i < object.length; i++) {
      const found = findUnserialisable(object[i], `${path}[${i}]`, seen);
      if (found !== undefined) return found;
    }
  } else {
    const prototype = Object.getPrototypeOf(object) as object | null;
    if (prototype !== Object.prototype && prototype !== null) return { path, what: describeInstance(object) };
    seen.set(object, path);
    for (const [key, property] of Object.entries(object)) {
      if (property === undefined) continue;
      const found = findUnserialisable(property, `${path}${propertyPath(key)}`, seen);
      if (found !== undefined) return found;
    }
  }
  // A shared object is fine; only one that contains itself is a cycle.
  seen.delete(object);
  return undefined;
}

function describeInstance(object: object): string {
  const name = (object.constructor as { name?: string } | undefined)?.name;
  return name ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : 'an instance of a class';
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
