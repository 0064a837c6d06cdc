import { TRANSACTIONS_WITHOUT_HOST, TRANSACTIONS_WITHOUT_PACKAGE } from '../background-tasks.messages.js';
import type { Task } from '../core/task.js';
import type { TaskHolder } from '../core/task-holder.js';
import type { TaskRunner } from '../core/task-runner.js';
import {
  aroundTransactions,
  isTransactionActive,
  isTransactionalMissing,
  loadTransactional,
  setTransactionValue,
  type TransactionalPackage,
  type TransactionHostLike,
  transactionHostsIn,
  transactionValue,
  withoutTransaction,
} from '../internals/cls-transactional-internals.js';

/**
 * One transaction, or savepoint, of a host: the tasks added while it was
 * the innermost one, until it ends. A savepoint that commits hands its tasks
 * to its parent, whose commit alone persists their data; one that rolls back
 * drops them, whatever the parent does. A transaction of its own
 * (`REQUIRES_NEW` included) lets them go at its commit.
 */
class TransactionScope {
  private held: HeldTask[] = [];
  ended = false;

  constructor(private readonly parent: TransactionScope | undefined) {}

  hold(task: HeldTask): void {
    this.held.push(task);
  }

  end(committed: boolean): void {
    this.ended = true;
    const held = this.held;
    this.held = [];
    const parent = this.parent;
    if (committed && parent !== undefined && !parent.ended) for (const task of held) parent.hold(task);
    else for (const task of held) task.transactionEnded(committed);
  }
}

/** A task held by the transactions (one per host, usually one) that were active when it was added. */
class HeldTask {
  private rolledBack = false;

  constructor(
    private readonly task: Task,
    private waiting: number,
    private readonly holder: TransactionHolder,
  ) {}

  transactionEnded(committed: boolean): void {
    if (!committed) this.rolledBack = true;
    if (--this.waiting === 0) this.holder.letGo(this.task, !this.rolledBack);
  }
}

/**
 * Holds each task added in a transaction of `@nestjs-cls/transactional`
 * until the outermost transaction that persists its data has ended, then
 * hands it back to the runner: to run, out of the finished transaction, or
 * to be dropped. The glue between the core and the package's internals.
 */
export class TransactionHolder implements TaskHolder {
  /** Where each host's innermost transaction is kept in the CLS context. */
  private readonly keys = new Map<TransactionHostLike, symbol>();

  constructor(
    private readonly runner: TaskRunner,
    private readonly hosts: readonly TransactionHostLike[],
  ) {
    for (const host of hosts) {
      const key = Symbol('nestjs-background-tasks: transaction');
      this.keys.set(host, key);
      aroundTransactions(host, (nested, start) => {
        const scope = new TransactionScope(nested ? transactionValue<TransactionScope>(host, key) : undefined);
        setTransactionValue(host, key, scope);
        return start().then(
          (value) => {
            scope.end(true);
            return value;
          },
          (error: unknown) => {
            scope.end(false);
            throw error;
          },
        );
      });
    }
  }

  hold(task: Task): boolean {
    let active: TransactionScope[] | undefined;
    for (const [host, key] of this.keys) {
      const scope = transactionValue<TransactionScope>(host, key);
      if (scope === undefined || scope.ended || !isTransactionActive(host)) continue;
      (active ??= []).push(scope);
    }
    if (active === undefined) return false;
    const held = new HeldTask(task, active.length, this);
    for (const scope of active) scope.hold(held);
    return true;
  }

  /** The task's transactions have ended: it runs, from now on, in its own context with none of them active. */
  letGo(task: Task, committed: boolean): void {
    if (committed || task.always) task.inAsyncContext(() => this.outsideTransactions(0, () => task.rebindAsyncContext()));
    this.runner.letGo(task, committed);
  }

  private outsideTransactions(index: number, fn: () => void): void {
    if (index === this.hosts.length) return fn();
    const host = this.hosts[index];
    withoutTransaction(host, () => {
      setTransactionValue(host, this.keys.get(host)!, undefined);
      this.outsideTransactions(index + 1, fn);
    });
  }
}

/**
 * With the `transactions` option: loads `@nestjs-cls/transactional`, finds
 * the app's `TransactionHost`s among `instances` (its providers), and makes
 * the runner's tasks follow their transactions.
 *
 * @throws {Error} when the package is not installed, or the app has no `TransactionHost`.
 */
export async function followTransactions(runner: TaskRunner, instances: () => Iterable<unknown>): Promise<void> {
  let pkg: TransactionalPackage;
  try {
    pkg = await loadTransactional();
  } catch (error) {
    if (isTransactionalMissing(error)) throw new Error(TRANSACTIONS_WITHOUT_PACKAGE, { cause: error });
    throw error;
  }
  const hosts = transactionHostsIn(pkg, instances());
  if (hosts.length === 0) throw new Error(TRANSACTIONS_WITHOUT_HOST);
  runner.setHolder(new TransactionHolder(runner, hosts));
}
