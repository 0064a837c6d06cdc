import {
  RESOLVER_NAME_METADATA as NEST_RESOLVER_NAME_METADATA,
  RESOLVER_TYPE_METADATA as NEST_RESOLVER_TYPE_METADATA,
} from '@nestjs/graphql/dist/graphql.constants.js';
import { Query, Resolver } from '@nestjs/graphql';
import { requestOfGraphQLContext } from '../../../lib/graphql/graphql-context.js';
import { RESOLVER_NAME_METADATA, RESOLVER_TYPE_METADATA } from '../../../lib/graphql/graphql-schema.js';

describe('GraphQL context', () => {
  it("reads @nestjs/graphql's metadata: a @Resolver() class, and a method's type and field name", () => {
    expect([RESOLVER_TYPE_METADATA, RESOLVER_NAME_METADATA]).toEqual([NEST_RESOLVER_TYPE_METADATA, NEST_RESOLVER_NAME_METADATA]);
    @Resolver('User')
    class QueryResolver {
      @Query('me')
      currentUser(): null {
        return null;
      }
    }
    expect(Reflect.getMetadata(RESOLVER_TYPE_METADATA, QueryResolver)).toBe('User');
    const method = QueryResolver.prototype.currentUser;
    expect([Reflect.getMetadata(RESOLVER_TYPE_METADATA, method), Reflect.getMetadata(RESOLVER_NAME_METADATA, method)]).toEqual([
      'Query',
      'me',
    ]);
  });

  it('finds the HTTP request as `req` (both drivers), or through Mercurius’s `reply`', () => {
    const req = { method: 'POST', headers: {} };
    expect(requestOfGraphQLContext({ req })).toBe(req);
    expect(requestOfGraphQLContext({ reply: { request: req }, app: {} })).toBe(req);
    expect(requestOfGraphQLContext({ connectionParams: {} })).toBeUndefined();
  });
});
