import type { ExecutionContext } from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import { runInScope, TaskScope } from '../core/task-scope.js';
import { infoOf, isRootField, requestOfResolver } from './graphql-context.js';
import { operationScopeOf } from './graphql-operation.js';

/** The scope of each field being resolved, by its `info`, which graphql-js creates for each field it resolves. */
const fieldScopes = new WeakMap<object, TaskScope>();

/**
 * Runs one field's resolver (the rest of its Nest pipeline) in a scope of its
 * own: the tasks it adds are dropped, unless `always`, if it throws or
 * rejects, whatever the other fields do. `@Background()` finds the scope by
 * the field's `info`; for `BackgroundTasks` injected into the resolver (or
 * into what it calls), `trackAsyncContext` also runs the pipeline, which Nest
 * binds to the async context it is created in, in the scope. A root field
 * that resolves keeps its request's operation scope from failing.
 */
export function resolveField(
  context: ExecutionContext,
  resolve: () => Observable<unknown>,
  trackAsyncContext: boolean,
): Observable<unknown> {
  const scope = new TaskScope();
  const info = infoOf(context);
  if (info !== undefined) fieldScopes.set(info, scope);
  const resolved = trackAsyncContext ? runInScope(scope, resolve) : resolve();
  const request = isRootField(context) ? requestOfResolver(context) : undefined;
  return resolved.pipe(
    tap({
      error: () => scope.fail(),
      complete: request && (() => operationScopeOf(request).rootFieldResolved()),
    }),
  );
}

/** The scope of the field being resolved, if the interceptor runs for its resolver. */
export function fieldScopeOf(context: ExecutionContext): TaskScope | undefined {
  const info = infoOf(context);
  return info && fieldScopes.get(info);
}
