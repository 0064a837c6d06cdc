import { operationGroupOf } from '../../../lib/graphql/graphql-operation.js';

/**
 * The operation group: the tasks a GraphQL request adds outside any field
 * fail with the request as a whole (docs/graphql.md). How root fields report
 * to it is in graphql-field.spec.ts.
 */

describe('operationGroupOf', () => {
  it('keeps one group per HTTP request, created on first use, and adds no property to the request', () => {
    // A property added to an Express request costs it a V8 map of its own, and every later lookup on it a miss.
    const request = { method: 'POST', url: '/graphql', headers: {} };
    const keys = Reflect.ownKeys(request);
    const group = operationGroupOf(request);
    expect(operationGroupOf(request)).toBe(group);
    expect(operationGroupOf({ ...request })).not.toBe(group);
    expect(Reflect.ownKeys(request)).toEqual(keys);
  });

  it('fails once a root field settled and none resolved; not before any settled', () => {
    const group = operationGroupOf({});
    expect(group.failed).toBe(false);
    group.rootFieldEnded(false);
    expect(group.failed).toBe(true);
    group.rootFieldEnded(true);
    expect(group.failed).toBe(false);
    group.rootFieldEnded(false);
    expect(group.failed).toBe(false);
  });
});
