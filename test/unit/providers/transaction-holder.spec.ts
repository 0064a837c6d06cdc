import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { Task } from '../../../lib/core/task.js';
import type { TaskRunner } from '../../../lib/core/task-runner.js';
import type { TransactionHostLike } from '../../../lib/internals/cls-transactional-internals.js';
import { TransactionHolder } from '../../../lib/providers/transaction-holder.js';

/**
 * The holder's rules, in-process, over a stand-in TransactionHost of the
 * shape the internals use (the real package is pinned in a process of its
 * own, and end to end in test/transactions.e2e-spec.ts): as the real one, it
 * runs each transaction in a CLS context of its own, copied from the caller's.
 */
function fakeHost() {
  const store = new AsyncLocalStorage<Record<symbol, unknown>>();
  const TX = Symbol('tx');
  const cls = {
    run: <T>(_options: unknown, fn: () => T): T => store.run({ ...store.getStore() }, fn),
    get: (key: symbol) => store.getStore()?.[key],
    set: (key: symbol, value: unknown) => void (store.getStore()![key] = value),
  };
  const host = {
    cls,
    _options: {
      wrapWithTransaction: async (_options: unknown, fn: () => Promise<unknown>, setTx: (tx: unknown) => void) => {
        setTx('tx');
        return fn();
      },
      wrapWithNestedTransaction: async (_options: unknown, fn: () => Promise<unknown>, setTx: (tx: unknown) => void) => {
        setTx('savepoint');
        return fn();
      },
    },
    isTransactionActive: () => cls.get(TX) !== undefined,
    setTxInstance: (tx: unknown) => cls.set(TX, tx),
  };
  const transaction = <T>(fn: () => Promise<T>, nested = false) =>
    cls.run(undefined, () =>
      nested
        ? host._options.wrapWithNestedTransaction(undefined, fn, host.setTxInstance)
        : host._options.wrapWithTransaction(undefined, fn, host.setTxInstance),
    ) as Promise<T>;
  return { host: host as unknown as TransactionHostLike, transaction, active: () => host.isTransactionActive() };
}

function setUp() {
  const { host, transaction, active } = fakeHost();
  const letGo: Array<{ name: string; committed: boolean; activeWhenRun: boolean }> = [];
  const runner = {
    letGo: (task: Task & { check: () => boolean }, committed: boolean) =>
      void letGo.push({ name: task.name, committed, activeWhenRun: task.check() }),
  } as unknown as TaskRunner;
  const holder = new TransactionHolder(runner, [host]);
  const task = (name: string, always = false) => {
    let bound = () => active();
    const t = {
      name,
      always,
      inAsyncContext: (fn: () => void) => fn(),
      rebindAsyncContext: () => {
        const now = active();
        bound = () => now;
      },
      check: () => bound(),
    };
    return t as unknown as Task;
  };
  return { holder, transaction, letGo, task };
}

const rollback = (error = new Error('rollback')) => Promise.reject(error);

describe('TransactionHolder', () => {
  it('does not hold a task added outside any transaction', () => {
    const { holder, task } = setUp();
    expect(holder.hold(task('a'))).toBe(false);
  });

  it('does not hold a task added after the commit from a callback bound in the transaction', async () => {
    const { holder, transaction, letGo, task } = setUp();
    let later!: () => boolean;
    await transaction(async () => {
      later = AsyncResource.bind(() => holder.hold(task('late')));
    });
    expect(later()).toBe(false);
    expect(letGo).toEqual([]);
  });

  it('lets a task go at the commit, out of the transaction; drops it at a rollback unless always', async () => {
    const { holder, transaction, letGo, task } = setUp();
    await transaction(async () => {
      expect(holder.hold(task('committed'))).toBe(true);
    });
    await transaction(async () => {
      holder.hold(task('rolled-back'));
      holder.hold(task('always', true));
      await rollback();
    }).catch(() => undefined);
    expect(letGo).toEqual([
      { name: 'committed', committed: true, activeWhenRun: false },
      // Dropped: never run, so its context does not matter.
      expect.objectContaining({ name: 'rolled-back', committed: false }),
      { name: 'always', committed: false, activeWhenRun: false },
    ]);
  });

  it('a released savepoint follows the outer transaction; a rolled-back one drops its tasks at once', async () => {
    const { holder, transaction, letGo, task } = setUp();
    await transaction(async () => {
      await transaction(async () => void holder.hold(task('released')), true);
      await transaction(async () => {
        holder.hold(task('inner-rolled-back'));
        await rollback();
      }, true).catch(() => undefined);
      expect(letGo.map(({ name }) => name)).toEqual(['inner-rolled-back']);
    });
    expect(letGo.map(({ name, committed }) => [name, committed])).toEqual([
      ['inner-rolled-back', false],
      ['released', true],
    ]);
  });

  it('a new transaction inside another (REQUIRES_NEW) lets its tasks go at its own commit', async () => {
    const { holder, transaction, letGo, task } = setUp();
    await transaction(async () => {
      await transaction(async () => void holder.hold(task('own')));
      expect(letGo.map(({ name, committed }) => [name, committed])).toEqual([['own', true]]);
      await rollback();
    }).catch(() => undefined);
    expect(letGo).toHaveLength(1);
  });
});
