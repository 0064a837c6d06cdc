import { findUnserialisable } from '../../../lib/utils/find-unserialisable.js';

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
