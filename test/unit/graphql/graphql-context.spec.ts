import type { ExecutionContext } from '@nestjs/common';
import { infoOf, isSubscription, requestOfResolver } from '../../../lib/graphql/graphql-context.js';

/** A resolver's execution context: Nest's arguments are `[root, args, context, info]`. */
const resolverContext = (gqlContext: object, info: object) =>
  ({ getArgByIndex: (index: number) => [{}, {}, gqlContext, info][index] }) as unknown as ExecutionContext;

describe('GraphQL context', () => {
  it("finds the resolver's HTTP request, its info, and whether it serves a subscription", () => {
    const req = { method: 'POST', headers: {} };
    const info = { operation: { operation: 'mutation' } };
    const mutation = resolverContext({ req }, info);
    expect(requestOfResolver(mutation)).toBe(req);
    expect(infoOf(mutation)).toBe(info);
    expect(isSubscription(mutation)).toBe(false);
    const subscription = resolverContext({ connectionParams: {} }, { operation: { operation: 'subscription' } });
    expect(requestOfResolver(subscription)).toBeUndefined();
    expect(isSubscription(subscription)).toBe(true);
  });
});
