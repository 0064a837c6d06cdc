import { TaskGroup } from '../core/task-group.js';

/**
 * The tasks that a GraphQL request adds outside any field's resolver (a
 * global guard of a singleton resolver, `moduleRef.resolve()`). They fail
 * with the request as a whole: when its root fields (those of `query`,
 * `mutation`, in any operation of a batch) were resolved and none succeeded.
 * A request whose fields the module never saw (a schema it did not wrap)
 * does not fail here: its status decides, as on REST.
 */
export class OperationTaskGroup extends TaskGroup {
  private rootFieldSettled = false;
  private rootFieldResolved = false;

  override get failed(): boolean {
    return this.rootFieldSettled && !this.rootFieldResolved;
  }

  /** A root field's resolver returned or threw. */
  rootFieldEnded(resolved: boolean): void {
    this.rootFieldSettled = true;
    if (resolved) this.rootFieldResolved = true;
  }
}

/**
 * The operation group of each HTTP request (Express's, or Fastify's) that
 * carries GraphQL. Not a property of the request: one added to an Express
 * request costs a V8 map of its own (see `httpTasks`). Not the GraphQL
 * context either: Apollo copies it for each operation of a batch.
 */
const operationGroups = new WeakMap<object, OperationTaskGroup>();

/** The one operation group of the HTTP request of a GraphQL context, created on first use. */
export function operationGroupOf(request: object): OperationTaskGroup {
  let group = operationGroups.get(request);
  if (group === undefined) operationGroups.set(request, (group = new OperationTaskGroup()));
  return group;
}
