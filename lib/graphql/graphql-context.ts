import type { ExecutionContext } from '@nestjs/common';

/** A resolver's arguments are `[root, args, context, info]`. */
const CONTEXT_ARG = 2;
const INFO_ARG = 3;

/** The GraphQL context of a resolver: what Nest also injects as REQUEST there. */
function graphqlContextOf(context: ExecutionContext): object | undefined {
  const gqlContext: unknown = context.getArgByIndex(CONTEXT_ARG);
  return typeof gqlContext === 'object' && gqlContext !== null ? gqlContext : undefined;
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
