/** A value that would change on its way to a worker (as JSON, or cloned to a thread), and where it is. */
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
  return findIn(value, JSON_RULES);
}

/**
 * The first part of `value` that the structured clone of `postMessage()`
 * would not carry unchanged to a worker thread, if any: a function, a
 * symbol, or an instance of a class, which would arrive as a plain object
 * without its methods. Besides what JSON carries, `undefined`, `NaN`,
 * BigInts, cycles, and the built-in types that structured clone knows
 * (Date, RegExp, Map, Set, ArrayBuffer, typed arrays, Buffer, Error) pass.
 */
export function findUncloneable(value: unknown): Unserialisable | undefined {
  return findIn(value, CLONE_RULES);
}

/** What a format carries. */
interface Rules {
  /** What is wrong with a primitive (or function), if anything. */
  primitive(value: unknown): string | undefined;
  /** Whether an instance of a class arrives as itself. */
  carries(object: object): boolean;
  /** Whether an object may contain itself. */
  readonly cycles: boolean;
  /** Whether an `undefined` element of an array arrives as such. */
  readonly undefinedInArrays: boolean;
}

const JSON_RULES: Rules = {
  primitive: (value) => {
    switch (typeof value) {
      case 'number':
        return Number.isFinite(value) ? undefined : String(value);
      case 'undefined':
        return 'undefined';
      case 'bigint':
        return 'a BigInt';
      default:
        return primitiveLost(value);
    }
  },
  carries: () => false,
  cycles: false,
  undefinedInArrays: false,
};

const CLONEABLE: ReadonlyArray<abstract new (...args: never[]) => object> = [
  Date,
  RegExp,
  Map,
  Set,
  ArrayBuffer,
  SharedArrayBuffer,
  DataView,
  Error,
];

const CLONE_RULES: Rules = {
  primitive: primitiveLost,
  carries: (object) => ArrayBuffer.isView(object) || CLONEABLE.some((type) => object instanceof type),
  cycles: true,
  undefinedInArrays: true,
};

function primitiveLost(value: unknown): string | undefined {
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  return undefined;
}

function findIn(value: unknown, rules: Rules): Unserialisable | undefined {
  const found = find(value, [], rules);
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

function find(value: unknown, ancestors: object[], rules: Rules): Found | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'object') {
    const what = rules.primitive(value);
    return what === undefined ? undefined : { what, keys: [] };
  }
  const object = value;
  const depth = ancestors.indexOf(object);
  if (depth !== -1) return rules.cycles ? undefined : { what: '', keys: [], cycleTo: depth };
  if (Array.isArray(object)) {
    ancestors.push(object);
    for (let i = 0; i < object.length; i++) {
      if (object[i] === undefined && rules.undefinedInArrays) continue;
      const found = find(object[i], ancestors, rules);
      if (found !== undefined) return within(i, found);
    }
  } else {
    const prototype = Object.getPrototypeOf(object) as object | null;
    if (prototype !== Object.prototype && prototype !== null) {
      return rules.carries(object) ? findInCollection(object, ancestors, rules) : { what: describeInstance(object), keys: [] };
    }
    ancestors.push(object);
    for (const key in object) {
      const property = (object as Record<string, unknown>)[key];
      if (property === undefined) continue;
      const found = find(property, ancestors, rules);
      if (found !== undefined) return within(key, found);
    }
  }
  // A shared object is fine; only one that contains itself is a cycle.
  ancestors.pop();
  return undefined;
}

/** The entries of a Map or a Set, which structured clone carries with what they hold. */
function findInCollection(object: object, ancestors: object[], rules: Rules): Found | undefined {
  if (!(object instanceof Map || object instanceof Set)) return undefined;
  ancestors.push(object);
  let i = 0;
  for (const entry of object instanceof Map ? object : object.values()) {
    const found = find(entry, ancestors, rules);
    if (found !== undefined) return within(i, found);
    i++;
  }
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
