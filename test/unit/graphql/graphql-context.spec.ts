import { RESOLVER_TYPE_METADATA as NEST_RESOLVER_TYPE_METADATA } from '@nestjs/graphql/dist/graphql.constants.js';
import { Resolver } from '@nestjs/graphql';
import { RESOLVER_TYPE_METADATA, requestOfGraphQLContext } from '../../../lib/graphql/graphql-context.js';

describe('GraphQL context', () => {
  it("RESOLVER_TYPE_METADATA is @nestjs/graphql's, and marks a @Resolver() class", () => {
    expect(RESOLVER_TYPE_METADATA).toBe(NEST_RESOLVER_TYPE_METADATA);
    @Resolver('Query')
    class QueryResolver {}
    expect(Reflect.hasMetadata(RESOLVER_TYPE_METADATA, QueryResolver)).toBe(true);
  });

  it('finds the HTTP request as `req` (both drivers), or through Mercurius’s `reply`', () => {
    const req = { method: 'POST', headers: {} };
    expect(requestOfGraphQLContext({ req })).toBe(req);
    expect(requestOfGraphQLContext({ reply: { request: req }, app: {} })).toBe(req);
    expect(requestOfGraphQLContext({ connectionParams: {} })).toBeUndefined();
  });
});
