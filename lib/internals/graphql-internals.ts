import type { GraphQLFieldResolver, GraphQLObjectType, GraphQLSchema } from 'graphql';

/**
 * What this package relies on of `@nestjs/graphql`, its drivers and
 * graphql-js beyond their documented API, in one place:
 * `test/unit/internals/graphql-internals.spec.ts` pins each against the real
 * packages, so that an upgrade that changes one fails there, loudly. Apps
 * without resolvers load none of these packages.
 */

/**
 * `@Resolver()`, `@Query()`, `@Mutation()` and `@ResolveField()` metadata
 * (`@nestjs/graphql`'s `RESOLVER_TYPE_METADATA` and `RESOLVER_NAME_METADATA`),
 * read as its `extractMetadata()` reads them to build the schema.
 */
const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
const RESOLVER_NAME_METADATA = 'graphql:resolver_name';

/** A resolver's arguments are `[root, args, context, info]`. */
export const CONTEXT_ARG = 2;
export const INFO_ARG = 3;

/** Whether the class is a `@Resolver()`. */
export function isResolverClass(metatype: object): boolean {
  return Reflect.hasMetadata(RESOLVER_TYPE_METADATA, metatype);
}

/**
 * The type and field that a method of a resolver class resolves, if any: the
 * method's type, else its class's, and its field name, else the method's.
 */
export function resolvedField(
  resolverClass: object,
  method: string,
  handler: object,
): { type: string; field: string } | undefined {
  const type = (Reflect.getMetadata(RESOLVER_TYPE_METADATA, handler) ??
    Reflect.getMetadata(RESOLVER_TYPE_METADATA, resolverClass)) as unknown;
  if (typeof type !== 'string') return undefined;
  return { type, field: (Reflect.getMetadata(RESOLVER_NAME_METADATA, handler) as string | undefined) ?? method };
}

/**
 * The schemas Nest built (its `GraphQLSchemaHost`s, among the app's provider
 * instances), which both drivers execute as they are: graphql-js reads each
 * field's `resolve` from them as it resolves the field. Loads `@nestjs/graphql`.
 */
export async function builtSchemas(instances: readonly unknown[]): Promise<GraphQLSchema[]> {
  const { GraphQLSchemaHost } = await import('@nestjs/graphql');
  const schemas: GraphQLSchema[] = [];
  for (const instance of instances) {
    if (!(instance instanceof GraphQLSchemaHost)) continue;
    // The host throws until the driver has built the schema: none yet is none to wrap.
    try {
      schemas.push(instance.schema);
    } catch {
      // Not built.
    }
  }
  return schemas;
}

/** A field of an object type, whose resolver can be replaced. */
export interface ResolvableField {
  readonly type: string;
  readonly name: string;
  /** A field of `query` or `mutation`. */
  readonly root: boolean;
}

/**
 * Replaces, in place, the resolver of each field of the schema's object
 * types (subscriptions left out: their events have no HTTP response) for
 * which `wrap` returns one. `types`: the type names to visit beyond the roots.
 */
export function wrapFieldResolvers(
  schema: GraphQLSchema,
  types: Iterable<string>,
  wrap: (
    field: ResolvableField,
    resolve: GraphQLFieldResolver<unknown, unknown>,
  ) => GraphQLFieldResolver<unknown, unknown> | undefined,
): void {
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((type) => type !== null && type !== undefined);
  for (const typeName of new Set([...roots.map(({ name }) => name), ...types])) {
    const type = schema.getType(typeName);
    // An interface or a union has no resolvers of Nest's.
    if (!isObjectType(type) || type === schema.getSubscriptionType()) continue;
    const root = roots.includes(type);
    for (const [name, field] of Object.entries(type.getFields())) {
      if (field.resolve === undefined) continue;
      const wrapped = wrap({ type: typeName, name, root }, field.resolve);
      if (wrapped !== undefined) field.resolve = wrapped;
    }
  }
}

/** By the tag graphql-js gives its object types: `graphql` is not a dependency of this package. */
function isObjectType(type: unknown): type is GraphQLObjectType {
  return (type as { [Symbol.toStringTag]?: string } | undefined)?.[Symbol.toStringTag] === 'GraphQLObjectType';
}

/**
 * The HTTP request under a GraphQL context, if it came over HTTP. Both Nest
 * drivers put it in the context as `req` (Apollo: Express's or Fastify's
 * request; Mercurius: Fastify's), and Mercurius adds its `reply`. A
 * subscription's context over WebSocket has neither.
 */
export function requestOfGraphQLContext(gqlContext: object): object | undefined {
  const { req, reply } = gqlContext as { req?: unknown; reply?: { request?: unknown } | null };
  const request = req ?? reply?.request;
  return typeof request === 'object' && request !== null ? request : undefined;
}
