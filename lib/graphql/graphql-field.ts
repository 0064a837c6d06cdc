import type { ExecutionContext } from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import { runInScope, TaskScope } from '../core/task-scope.js';
import { graphqlContextOf, isRootField, requestOfGraphQLContext } from './graphql-context.js';
import { operationScopeOf } from './graphql-operation.js';

/**
 * Runs one field's resolver (the rest of its Nest pipeline, which Nest binds
 * to the async context it is created in) in a scope of its own: the tasks it
 * adds are dropped, unless `always`, if it throws or rejects, whatever the
 * other fields do. A root field that resolves keeps its request's operation
 * scope from failing.
 */
export function resolveField(context: ExecutionContext, resolve: () => Observable<unknown>): Observable<unknown> {
  const scope = new TaskScope();
  const resolved = runInScope(scope, resolve);
  const request = isRootField(context) ? requestOf(context) : undefined;
  return resolved.pipe(
    tap({
      error: () => scope.fail(),
      complete: request && (() => operationScopeOf(request).rootFieldResolved()),
    }),
  );
}

function requestOf(context: ExecutionContext): object | undefined {
  const gqlContext = graphqlContextOf(context);
  return gqlContext && requestOfGraphQLContext(gqlContext);
}
