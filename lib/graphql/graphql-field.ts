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

/** The group of each field being resolved, by its `info`, which graphql-js creates for each field it resolves. */
const fieldGroups = new WeakMap<object, TaskGroup>();

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
    if (background) fieldGroups.set(info, group!);
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
    return result.then(
      (value) => {
        recordOutcome(group, operation, true);
        return value;
      },
      (error: unknown) => {
        recordOutcome(group, operation, false);
        throw error;
      },
    );
  };
}

/** The group of the field that `info` describes, if its resolver was wrapped for `@Background()`. */
export function fieldGroupOf(info: object): TaskGroup | undefined {
  return fieldGroups.get(info);
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

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | null | undefined)?.then === 'function';
}
