import { TaskScope } from '../core/task-scope.js';

/** Where a GraphQL request's HTTP request (Express's, or Fastify's) keeps its operation scope. */
const OPERATION_SCOPE = Symbol('nestjs-background-tasks:graphql-operation');

interface ScopeCarrier {
  [OPERATION_SCOPE]?: OperationScope;
}

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

/** The one operation scope of the HTTP request of a GraphQL context, created on first use. */
export function operationScopeOf(request: object): OperationScope {
  return ((request as ScopeCarrier)[OPERATION_SCOPE] ??= new OperationScope());
}
