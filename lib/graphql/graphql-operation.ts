import { TaskScope } from '../core/task-scope.js';

/**
 * The tasks that a GraphQL request adds outside any field's resolver: in
 * guards, which Nest runs before the interceptor that scopes the resolver,
 * and in field resolvers without interceptors. They fail with the request as
 * a whole: when none of its root fields (those of `query`, `mutation`, in
 * any operation of a batch) resolved.
 */
export class OperationScope extends TaskScope {
  private resolved = false;

  override get failed(): boolean {
    return super.failed || !this.resolved;
  }

  rootFieldResolved(): void {
    this.resolved = true;
  }
}

/**
 * The operation scopes of GraphQL requests, by their HTTP request (Express's,
 * or Fastify's): a property added to it would change the shape of every
 * request object of the app, which costs more.
 */
const operationScopes = new WeakMap<object, OperationScope>();

/** The one operation scope of the HTTP request of a GraphQL context, created on first use. */
export function operationScopeOf(request: object): OperationScope {
  let scope = operationScopes.get(request);
  if (scope === undefined) operationScopes.set(request, (scope = new OperationScope()));
  return scope;
}
