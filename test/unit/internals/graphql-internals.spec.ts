import { Query, Resolver, GraphQLSchemaHost } from '@nestjs/graphql';
import {
  RESOLVER_NAME_METADATA as NEST_RESOLVER_NAME_METADATA,
  RESOLVER_TYPE_METADATA as NEST_RESOLVER_TYPE_METADATA,
} from '@nestjs/graphql/dist/graphql.constants.js';
import { buildSchema, graphql } from 'graphql';
import {
  builtSchemas,
  isResolverClass,
  requestOfGraphQLContext,
  resolvedField,
  wrapFieldResolvers,
} from '../../../lib/internals/graphql-internals.js';

/**
 * Each internal of @nestjs/graphql, its drivers and graphql-js that the
 * package relies on, pinned to the real packages.
 */

describe("@nestjs/graphql's resolver metadata", () => {
  it("reads a @Resolver() class, and a method's type and field name, under Nest's keys", () => {
    @Resolver('User')
    class UserResolver {
      @Query('me')
      currentUser(): null {
        return null;
      }

      plain(): void {}
    }
    const { prototype } = UserResolver;
    expect(Reflect.getMetadata(NEST_RESOLVER_TYPE_METADATA, UserResolver)).toBe('User');
    expect(isResolverClass(UserResolver)).toBe(true);
    expect(isResolverClass(class NotAResolver {})).toBe(false);
    expect(resolvedField(UserResolver, 'currentUser', prototype.currentUser)).toEqual({ type: 'Query', field: 'me' });
    expect(Reflect.getMetadata(NEST_RESOLVER_NAME_METADATA, prototype.currentUser)).toBe('me');
    // A method without metadata of its own resolves a field of its class's type, named after it.
    expect(resolvedField(UserResolver, 'plain', prototype.plain)).toEqual({ type: 'User', field: 'plain' });
  });
});

describe("GraphQLSchemaHost, Nest's built schema", () => {
  it('is found among instances once built; a host not built yet has none', async () => {
    const schema = buildSchema('type Query { a: Int }');
    const built = new GraphQLSchemaHost();
    built.schema = schema;
    expect(await builtSchemas([{}, new GraphQLSchemaHost(), built])).toEqual([schema]);
  });
});

describe("graphql-js's field resolvers", () => {
  const schema = () =>
    buildSchema(`
      type Query { a: Int, user: User }
      type Mutation { b: Int }
      type Subscription { c: Int }
      type User { name: String }
      interface Node { id: ID }
    `);

  it('are replaced in place where wrap() returns one, and graphql-js executes the replacement', async () => {
    const target = schema();
    target.getQueryType()!.getFields().a.resolve = () => 1;
    target.getQueryType()!.getFields().user.resolve = () => ({ name: 'ada' });
    target.getMutationType()!.getFields().b.resolve = () => 2;
    target.getSubscriptionType()!.getFields().c.resolve = () => 3;
    (target.getType('User') as { getFields(): Record<string, { resolve?: unknown }> }).getFields().name.resolve = () => 'ada';
    const visited: string[] = [];
    const executed: string[] = [];
    wrapFieldResolvers(target, ['User', 'Node', 'Missing'], (field, resolve) => {
      visited.push(`${field.type}.${field.name}${field.root ? ' (root)' : ''}`);
      if (field.name === 'b') return undefined; // left alone
      return (...args) => (executed.push(field.name), resolve(...args));
    });
    expect(visited.sort()).toEqual(['Mutation.b (root)', 'Query.a (root)', 'Query.user (root)', 'User.name']);
    const { data } = await graphql({ schema: target, source: '{ a user { name } }' });
    expect(data).toEqual({ a: 1, user: { name: 'ada' } });
    expect(executed).toEqual(['a', 'user', 'name']);
    expect(await graphql({ schema: target, source: 'mutation { b }' })).toEqual({ data: { b: 2 } });
    expect(executed).toHaveLength(3);
  });
});

describe('the HTTP request of a GraphQL context', () => {
  it('is `req` (both drivers), or Mercurius’s `reply.request`; a subscription over WebSocket has none', () => {
    const req = { method: 'POST', headers: {} };
    expect(requestOfGraphQLContext({ req })).toBe(req);
    expect(requestOfGraphQLContext({ reply: { request: req }, app: {} })).toBe(req);
    expect(requestOfGraphQLContext({ connectionParams: {} })).toBeUndefined();
  });
});
