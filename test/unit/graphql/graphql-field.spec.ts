import { currentGroup, type TaskGroup } from '../../../lib/core/task-group.js';
import { fieldGroupOf, groupedResolver } from '../../../lib/graphql/graphql-field.js';
import { operationGroupOf } from '../../../lib/graphql/graphql-operation.js';

/** Calls a wrapped resolver as graphql-js does, with a fresh `info`, over an HTTP request. */
function call(resolve: (info: object) => unknown, scoping: { root?: boolean; background?: boolean; injected?: boolean }) {
  const request = {};
  const info = {};
  const wrapped = groupedResolver((_source, _args, _context, fieldInfo: object) => resolve(fieldInfo), {
    root: false,
    background: false,
    injected: false,
    ...scoping,
  });
  return { request, info, result: () => wrapped(undefined, {}, { req: request }, info) };
}

describe('groupedResolver', () => {
  it('gives a @Background() field a group by its info, which fails when the resolver throws', () => {
    let group: TaskGroup | undefined;
    const { result } = call(
      (info) => {
        group = fieldGroupOf(info);
        throw new Error('no');
      },
      { background: true },
    );
    expect(result).toThrow('no');
    expect(group?.failed).toBe(true);
  });

  it('fails the group of a resolver that rejects, and not of one that resolves', async () => {
    const groups: Array<TaskGroup | undefined> = [];
    const rejects = call((info) => (groups.push(fieldGroupOf(info)), Promise.reject(new Error('no'))), { background: true });
    const resolves = call((info) => (groups.push(fieldGroupOf(info)), Promise.resolve(1)), { background: true });
    await expect(rejects.result()).rejects.toThrow('no');
    await expect(resolves.result()).resolves.toBe(1);
    expect(groups.map((group) => group?.failed)).toEqual([true, false]);
  });

  it('runs a request-scoped resolver in its group, across await', async () => {
    const { result } = call(
      async () => {
        await Promise.resolve();
        return currentGroup();
      },
      { injected: true },
    );
    const group = (await result()) as TaskGroup | undefined;
    expect(group?.failed).toBe(false);
    expect(currentGroup()).toBeUndefined();
  });

  it('fails the operation when its root fields settled and none resolved; not before any settled', async () => {
    const failing = call(() => Promise.reject(new Error('no')), { root: true });
    const operation = operationGroupOf(failing.request);
    expect(operation.failed).toBe(false);
    await expect(failing.result()).rejects.toThrow('no');
    expect(operation.failed).toBe(true);
  });

  it('keeps the operation from failing once one root field resolved', () => {
    const { request, result } = call(() => true, { root: true });
    const failing = groupedResolver(
      () => {
        throw new Error('no');
      },
      { root: true, background: false, injected: false },
    );
    expect(result()).toBe(true);
    expect(() => failing(undefined, {}, { req: request }, {})).toThrow('no');
    expect(operationGroupOf(request).failed).toBe(false);
  });
});
