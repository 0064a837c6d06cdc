import type { ExecutionContext } from '@nestjs/common';
import { CONTEXT_ARG, INFO_ARG, requestOfGraphQLContext } from '../internals/graphql-internals.js';

/** The GraphQL context of a resolver: what Nest also injects as REQUEST there. */
function graphqlContextOf(context: ExecutionContext): object | undefined {
  const gqlContext: unknown = context.getArgByIndex(CONTEXT_ARG);
  return typeof gqlContext === 'object' && gqlContext !== null ? gqlContext : undefined;
}

/** The HTTP request of a resolver's GraphQL request, if it came over HTTP. */
export function requestOfResolver(context: ExecutionContext): object | undefined {
  const gqlContext = graphqlContextOf(context);
  return gqlContext && requestOfGraphQLContext(gqlContext);
}

/** What graphql-js tells a resolver about the field it resolves. */
interface ResolveInfo {
  readonly operation?: { readonly operation?: string };
}

/** The `info` of the field being resolved. */
export function infoOf(context: ExecutionContext): ResolveInfo | undefined {
  const info: unknown = context.getArgByIndex(INFO_ARG);
  return typeof info === 'object' && info !== null ? info : undefined;
}

/** Whether the resolver serves a subscription, whose events have no response to wait for. */
export function isSubscription(context: ExecutionContext): boolean {
  return infoOf(context)?.operation?.operation === 'subscription';
}
