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

/** Where the HTTP request (Express's, or Fastify's) of a GraphQL request keeps its operation group. */
const OPERATION_GROUP = Symbol('nestjs-background-tasks:operation-group');

interface GroupHolder {
  [OPERATION_GROUP]?: OperationTaskGroup;
}

/** The one operation group of the HTTP request of a GraphQL context, created on first use. */
export function operationGroupOf(request: object): OperationTaskGroup {
  return ((request as GroupHolder)[OPERATION_GROUP] ??= new OperationTaskGroup());
}
