import { runInScope, TaskScope } from '../core/task-scope.js';
import { requestOfGraphQLContext } from '../internals/graphql-internals.js';
import { type OperationScope, operationScopeOf } from './graphql-operation.js';

/** A graphql-js field resolver. Nest's runs the field's guards, interceptors, pipes and method. */
export type FieldResolver<Info extends object> = (source: unknown, args: unknown, context: unknown, info: Info) => unknown;

/** What a field's resolver needs from its wrapper; a field that needs none is left alone. */
export interface FieldScoping {
  /** A field of `query` or `mutation`: whether one resolved decides for the tasks added outside any field. */
  readonly root: boolean;
  /** Its method takes `@Background()`, which finds the field's scope by `info`. */
  readonly background: boolean;
  /**
   * Its resolver class is request-scoped: `BackgroundTasks` may be injected
   * into it, its guards, interceptors, pipes and what it calls, one object for
   * the whole request; they find the field's scope through the async context.
   */
  readonly injected: boolean;
}

/** The scope of each field being resolved, by its `info`, which graphql-js creates for each field it resolves. */
const fieldScopes = new WeakMap<object, TaskScope>();

/**
 * Wraps a field's resolver so that it runs in a scope of its own: the tasks
 * added while it runs (in its guards too) are dropped, unless `always`, if it
 * throws or rejects, whatever the other fields do. A root field also tells
 * its request's operation scope whether it resolved.
 */
export function scopedResolver<Info extends object>(
  resolve: FieldResolver<Info>,
  { root, background, injected }: FieldScoping,
): FieldResolver<Info> {
  return (source, args, context, info) => {
    const scope = background || injected ? new TaskScope() : undefined;
    if (background) fieldScopes.set(info, scope!);
    const operation = root ? operationOf(context) : undefined;
    let result: unknown;
    try {
      result = injected ? runInScope(scope!, () => resolve(source, args, context, info)) : resolve(source, args, context, info);
    } catch (error) {
      settle(scope, operation, false);
      throw error;
    }
    if (!isPromise(result)) {
      settle(scope, operation, true);
      return result;
    }
    return result.then(
      (value) => {
        settle(scope, operation, true);
        return value;
      },
      (error: unknown) => {
        settle(scope, operation, false);
        throw error;
      },
    );
  };
}

/** The scope of the field that `info` describes, if its resolver was wrapped for `@Background()`. */
export function fieldScopeOf(info: object): TaskScope | undefined {
  return fieldScopes.get(info);
}

function settle(scope: TaskScope | undefined, operation: OperationScope | undefined, resolved: boolean): void {
  if (!resolved) scope?.fail();
  operation?.settleRootField(resolved);
}

/** The operation scope of a query or mutation over HTTP; a context without an HTTP request has none. */
function operationOf(context: unknown): OperationScope | undefined {
  const request = typeof context === 'object' && context !== null ? requestOfGraphQLContext(context) : undefined;
  return request && operationScopeOf(request);
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | null | undefined)?.then === 'function';
}
