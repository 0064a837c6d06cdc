import { Logger } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { BACKGROUND_PARAM_METADATA, LOGGER_CONTEXT } from '../background-tasks.constants.js';
import { GRAPHQL_NO_SCHEMA } from '../background-tasks.messages.js';
import { builtSchemas, isResolverClass, resolvedField, wrapFieldResolvers } from '../internals/graphql-internals.js';
import { type InstanceWrapper, isRequestScoped } from '../internals/nest-internals.js';
import { type FieldGrouping, groupedResolver } from './graphql-field.js';

/** How the fields of resolver methods need scoping, by type name, then field name. */
type ResolverFields = Map<string, Map<string, Omit<FieldGrouping, 'root'>>>;

/** The schemas whose field resolvers are wrapped: an app's module may be imported more than once. */
const wrappedSchemas = new WeakSet<object>();

/**
 * Gives the fields of every GraphQL schema of the app an outcome of their
 * own, by wrapping their resolvers in place. Only the fields that can add
 * tasks are wrapped, and root fields; the others cost nothing. Runs once
 * every module is initialised, when Nest has built its schemas; an app
 * without resolvers loads nothing of GraphQL. An app with resolvers and no
 * schema to wrap is told so.
 */
export async function groupGraphQLFields(discovery: DiscoveryService, scanner: MetadataScanner): Promise<void> {
  const providers = discovery.getProviders();
  const resolvers = providers.filter(({ metatype }) => !!metatype && isResolverClass(metatype));
  if (resolvers.length === 0) return;
  const schemas = await builtSchemas(providers.map(({ instance }) => instance as unknown));
  if (schemas.length === 0) new Logger(LOGGER_CONTEXT).warn(GRAPHQL_NO_SCHEMA(resolvers.map(({ name }) => String(name))));
  const fields = resolverFields(resolvers, scanner);
  for (const schema of schemas) {
    if (wrappedSchemas.has(schema)) continue;
    wrappedSchemas.add(schema);
    wrapFieldResolvers(schema, fields.keys(), ({ type, name, root }, resolve) => {
      const { background = false, injected = false } = fields.get(type)?.get(name) ?? {};
      return root || background || injected ? groupedResolver(resolve, { root, background, injected }) : undefined;
    });
  }
}

/** Which fields the resolver classes' methods resolve, and how they can add tasks. */
function resolverFields(resolvers: InstanceWrapper[], scanner: MetadataScanner): ResolverFields {
  const fields: ResolverFields = new Map();
  for (const wrapper of resolvers) {
    const metatype = wrapper.metatype as { prototype: Record<string, object> };
    const injected = isRequestScoped(wrapper);
    for (const method of scanner.getAllMethodNames(metatype.prototype)) {
      const handler = metatype.prototype[method];
      const resolved = resolvedField(metatype, method, handler);
      if (resolved === undefined) continue;
      const background = Reflect.getMetadata(BACKGROUND_PARAM_METADATA, handler) === true;
      if (!fields.has(resolved.type)) fields.set(resolved.type, new Map());
      fields.get(resolved.type)!.set(resolved.field, { background, injected });
    }
  }
  return fields;
}
