import { findUncloneable, findUnserialisable } from '../../../lib/utils/find-unserialisable.js';

describe('findUnserialisable', () => {
  it.each([
    ['a string', 'x'],
    ['a number', 4.5],
    ['a boolean', false],
    ['null', null],
    ['an array of JSON values', [1, 'a', null, [true]]],
    ['a plain object', { a: { b: [1, { c: 'd' }] } }],
    ['an object without prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ['an undefined property, which reads the same on the other side', { a: undefined, b: 1 }],
    ['an object shared twice, not a cycle', ((shared) => ({ a: shared, b: [shared] }))({ x: 1 })],
  ])('passes %s', (_what, value) => {
    expect(findUnserialisable(value)).toBeUndefined();
  });

  it.each([
    ['a Date', { items: [{}, {}, {}, { at: new Date() }] }, '.items[3].at', 'a Date'],
    ['a Map', new Map(), '', 'a Map'],
    ['a Set', { tags: new Set() }, '.tags', 'a Set'],
    ['a class instance', { user: new (class User {})() }, '.user', 'a User'],
    ['an instance of an anonymous class', [new (class {})()], '[0]', 'an instance of a class'],
    ['a function', { callback: () => 1 }, '.callback', 'a function'],
    ['a BigInt', { id: 10n }, '.id', 'a BigInt'],
    ['a symbol', [Symbol('s')], '[0]', 'a symbol'],
    ['NaN', { ratio: NaN }, '.ratio', 'NaN'],
    ['Infinity', [-Infinity], '[0]', '-Infinity'],
    ['undefined in an array', [1, undefined], '[1]', 'undefined'],
    ['undefined itself', undefined, '', 'undefined'],
    ['a key that is no identifier', { 'a-b': new Date() }, '["a-b"]', 'a Date'],
    ['an Error', { error: new Error('x') }, '.error', 'an Error'],
  ])('finds %s, and where', (_what, value, path, what) => {
    expect(findUnserialisable(value)).toEqual({ path, what });
  });

  it('finds a cycle, and names where it leads back to', () => {
    const order: Record<string, unknown> = { id: 1 };
    order.self = { order };
    expect(findUnserialisable({ order })).toEqual({ path: '.order.self.order', what: 'a cycle back to .order' });
    const list: unknown[] = [];
    list.push(list);
    expect(findUnserialisable(list)).toEqual({ path: '[0]', what: 'a cycle back to the argument' });
  });
});

describe('findUncloneable', () => {
  it.each([
    ['JSON values', { a: [1, 'b', null, true] }],
    ['undefined, NaN and BigInts', [undefined, NaN, -Infinity, 10n, { a: undefined }]],
    [
      'built-in types',
      [new Date(), /x/g, new ArrayBuffer(2), new Uint8Array(2), Buffer.from('x'), new DataView(new ArrayBuffer(1))],
    ],
    ['an Error', new TypeError('x')],
    ['Maps and Sets of data', new Map([['a', new Set([1, { b: 2 }])]])],
    ['a cycle', ((order: Record<string, unknown>) => ((order.self = order), order))({ id: 1 })],
    ['an object without prototype', Object.create(null) as object],
  ])('passes %s', (_what, value) => {
    expect(findUncloneable(value)).toBeUndefined();
  });

  it.each([
    ['a function', { callback: () => 1 }, '.callback', 'a function'],
    ['a symbol', [Symbol('s')], '[0]', 'a symbol'],
    ['a class instance, which would lose its methods', { user: new (class User {})() }, '.user', 'a User'],
    ['a function in a Map entry', { m: new Map([['k', () => 1]]) }, '.m[0][1]', 'a function'],
    ['a class instance in a Set', new Set([1, new (class Order {})()]), '[1]', 'an Order'],
    ['a Promise', { pending: Promise.resolve() }, '.pending', 'a Promise'],
  ])('finds %s, and where', (_what, value, path, what) => {
    expect(findUncloneable(value)).toEqual({ path, what });
  });
});
