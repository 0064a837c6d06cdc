import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { BACKGROUND_PARAM_METADATA } from '../background-tasks.constants.js';
import { type FieldScoping, scopedResolver } from './graphql-field.js';

/**
 * `@Resolver()`, `@Query()`, `@Mutation()` and `@ResolveField()` metadata,
 * read as `@nestjs/graphql`'s `extractMetadata()` reads it to build the
 * schema: a method's type (else its class's) and field name (else the
 * method's). Apps without resolvers read it without loading that optional
 * package. A test pins the keys.
 */
export const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
export const RESOLVER_NAME_METADATA = 'graphql:resolver_name';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** How the fields of resolver methods need scoping, by type name, then field name. */
type ResolverFields = Map<string, Map<string, Omit<FieldScoping, 'root'>>>;

/** The schemas whose fields are scoped: an app's module may be imported more than once. */
const scopedSchemas = new WeakSet<object>();

function isResolver({ metatype }: InstanceWrapper): boolean {
  return !!metatype && Reflect.hasMetadata(RESOLVER_TYPE_METADATA, metatype);
}

/**
 * Gives the fields of every GraphQL schema of the app an outcome of their
 * own, by wrapping their resolvers in place: graphql-js reads `resolve` from
 * the schema for each field it resolves, and both Nest drivers execute the
 * schema that Nest built (`GraphQLSchemaHost`). Only the fields that can add
 * tasks are wrapped, and root fields; the others cost nothing. Runs once
 * every module is initialised, when Nest has built its schemas; an app
 * without resolvers loads nothing of GraphQL.
 */
export async function scopeGraphQLSchemas(discovery: DiscoveryService, scanner: MetadataScanner): Promise<void> {
  const providers = discovery.getProviders();
  const resolvers = providers.filter(isResolver);
  if (resolvers.length === 0) return;
  const { GraphQLSchemaHost } = await import('@nestjs/graphql');
  const fields = resolverFields(resolvers, scanner);
  for (const { instance } of providers) {
    if (instance instanceof GraphQLSchemaHost) scopeSchema(instance.schema, fields);
  }
}

/** Which fields the resolver classes' methods resolve, and how they can add tasks. */
function resolverFields(resolvers: InstanceWrapper[], scanner: MetadataScanner): ResolverFields {
  const fields: ResolverFields = new Map();
  for (const wrapper of resolvers) {
    const metatype = wrapper.metatype as { prototype: Record<string, object> };
    const injected = !wrapper.isDependencyTreeStatic();
    for (const method of scanner.getAllMethodNames(metatype.prototype)) {
      const handler = metatype.prototype[method];
      const type = (Reflect.getMetadata(RESOLVER_TYPE_METADATA, handler) ??
        Reflect.getMetadata(RESOLVER_TYPE_METADATA, metatype)) as string | undefined;
      if (typeof type !== 'string') continue;
      const name = (Reflect.getMetadata(RESOLVER_NAME_METADATA, handler) as string | undefined) ?? method;
      const background = Reflect.getMetadata(BACKGROUND_PARAM_METADATA, handler) === true;
      if (!fields.has(type)) fields.set(type, new Map());
      fields.get(type)!.set(name, { background, injected });
    }
  }
  return fields;
}

function scopeSchema(schema: GraphQLSchema, fields: ResolverFields): void {
  if (scopedSchemas.has(schema)) return;
  scopedSchemas.add(schema);
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((type) => type !== null && type !== undefined);
  for (const typeName of new Set([...roots.map(({ name }) => name), ...fields.keys()])) {
    const type = schema.getType(typeName);
    // A subscription's events have no HTTP response; an interface or a union has no resolvers of Nest's.
    if (!isObjectType(type) || type === schema.getSubscriptionType()) continue;
    const root = roots.includes(type);
    for (const [name, field] of Object.entries(type.getFields())) {
      const { background = false, injected = false } = fields.get(typeName)?.get(name) ?? {};
      if (field.resolve !== undefined && (root || background || injected)) {
        field.resolve = scopedResolver(field.resolve, { root, background, injected });
      }
    }
  }
}

/** By the tag graphql-js gives its object types: `graphql` is not a dependency of this package. */
function isObjectType(type: unknown): type is GraphQLObjectType {
  return (type as { [Symbol.toStringTag]?: string } | undefined)?.[Symbol.toStringTag] === 'GraphQLObjectType';
}
