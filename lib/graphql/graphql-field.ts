import { runInGroup, TaskGroup } from '../core/task-group.js';
import { requestOfGraphQLContext } from '../internals/graphql-internals.js';
import { type OperationTaskGroup, operationGroupOf } from './graphql-operation.js';

/** A graphql-js field resolver. Nest's runs the field's guards, interceptors, pipes and method. */
export type FieldResolver<Info extends object> = (source: unknown, args: unknown, context: unknown, info: Info) => unknown;

/** What a field's resolver needs from its wrapper; a field that needs none is left alone. */
export interface FieldGrouping {
  /** A field of `query` or `mutation`: whether one resolved decides for the tasks added outside any field. */
  readonly root: boolean;
  /** Its method takes `@Background()`, which finds the field's group by `info`. */
  readonly background: boolean;
  /**
   * Its resolver class is request-scoped: `BackgroundTasks` may be injected
   * into it, its guards, interceptors, pipes and what it calls, one object for
   * the whole request; they find the field's group through the async context.
   */
  readonly injected: boolean;
}

/**
 * Where a field's `info`, which graphql-js creates for each field it
 * resolves, keeps the field's group: a property costs less than a WeakMap
 * entry per field, which the garbage collector must trace apart.
 */
const FIELD_GROUP = Symbol('nestjs-background-tasks:field-group');

interface GroupHolder {
  [FIELD_GROUP]?: TaskGroup;
}

/**
 * Wraps a field's resolver so that it runs in a group of its own: the tasks
 * added while it runs (in its guards too) are dropped, unless `always`, if it
 * throws or rejects, whatever the other fields do. A root field also tells
 * its request's operation group whether it resolved.
 */
export function groupedResolver<Info extends object>(
  resolve: FieldResolver<Info>,
  { root, background, injected }: FieldGrouping,
): FieldResolver<Info> {
  return (source, args, context, info) => {
    const group = background || injected ? new TaskGroup() : undefined;
    if (background) (info as GroupHolder)[FIELD_GROUP] = group;
    const operation = root ? operationOf(context) : undefined;
    let result: unknown;
    try {
      result = injected ? runInGroup(group!, () => resolve(source, args, context, info)) : resolve(source, args, context, info);
    } catch (error) {
      recordOutcome(group, operation, false);
      throw error;
    }
    if (!isPromise(result)) {
      recordOutcome(group, operation, true);
      return result;
    }
    // Watched on a branch of its own: graphql-js gets the very promise, with no extra hop, and handles its rejection.
    result.then(
      () => recordOutcome(group, operation, true),
      () => recordOutcome(group, operation, false),
    );
    return result;
  };
}

/** The group of the field that `info` describes, if its resolver was wrapped for `@Background()`. */
export function fieldGroupOf(info: object): TaskGroup | undefined {
  return (info as GroupHolder)[FIELD_GROUP];
}

function recordOutcome(group: TaskGroup | undefined, operation: OperationTaskGroup | undefined, resolved: boolean): void {
  if (!resolved) group?.fail();
  operation?.rootFieldEnded(resolved);
}

/** The operation group of a query or mutation over HTTP; a context without an HTTP request has none. */
function operationOf(context: unknown): OperationTaskGroup | undefined {
  const request = typeof context === 'object' && context !== null ? requestOfGraphQLContext(context) : undefined;
  return request && operationGroupOf(request);
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null | undefined)?.then === 'function';
}
