import { currentScope, type TaskScope } from '../../../lib/core/task-scope.js';
import { fieldScopeOf, scopedResolver } from '../../../lib/graphql/graphql-field.js';
import { operationScopeOf } from '../../../lib/graphql/graphql-operation.js';

/** Calls a wrapped resolver as graphql-js does, with a fresh `info`, over an HTTP request. */
function call(resolve: (info: object) => unknown, scoping: { root?: boolean; background?: boolean; injected?: boolean }) {
  const request = {};
  const info = {};
  const wrapped = scopedResolver((_source, _args, _context, fieldInfo: object) => resolve(fieldInfo), {
    root: false,
    background: false,
    injected: false,
    ...scoping,
  });
  return { request, info, result: () => wrapped(undefined, {}, { req: request }, info) };
}

describe('scopedResolver', () => {
  it('gives a @Background() field a scope by its info, which fails when the resolver throws', () => {
    let scope: TaskScope | undefined;
    const { result } = call(
      (info) => {
        scope = fieldScopeOf(info);
        throw new Error('no');
      },
      { background: true },
    );
    expect(result).toThrow('no');
    expect(scope?.failed).toBe(true);
  });

  it('fails the scope of a resolver that rejects, and not of one that resolves', async () => {
    const scopes: Array<TaskScope | undefined> = [];
    const rejects = call((info) => (scopes.push(fieldScopeOf(info)), Promise.reject(new Error('no'))), { background: true });
    const resolves = call((info) => (scopes.push(fieldScopeOf(info)), Promise.resolve(1)), { background: true });
    await expect(rejects.result()).rejects.toThrow('no');
    await expect(resolves.result()).resolves.toBe(1);
    expect(scopes.map((scope) => scope?.failed)).toEqual([true, false]);
  });

  it('runs a request-scoped resolver in its scope, across await', async () => {
    const { result } = call(
      async () => {
        await Promise.resolve();
        return currentScope();
      },
      { injected: true },
    );
    const scope = (await result()) as TaskScope | undefined;
    expect(scope?.failed).toBe(false);
    expect(currentScope()).toBeUndefined();
  });

  it('fails the operation when its root fields settled and none resolved; not before any settled', async () => {
    const failing = call(() => Promise.reject(new Error('no')), { root: true });
    const operation = operationScopeOf(failing.request);
    expect(operation.failed).toBe(false);
    await expect(failing.result()).rejects.toThrow('no');
    expect(operation.failed).toBe(true);
  });

  it('keeps the operation from failing once one root field resolved', () => {
    const { request, result } = call(() => true, { root: true });
    const failing = scopedResolver(
      () => {
        throw new Error('no');
      },
      { root: true, background: false, injected: false },
    );
    expect(result()).toBe(true);
    expect(() => failing(undefined, {}, { req: request }, {})).toThrow('no');
    expect(operationScopeOf(request).failed).toBe(false);
  });
});
