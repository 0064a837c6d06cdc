/**
 * What this package reads or changes of `@nestjs-cls/transactional` (3.x)
 * beyond its documented API, in one place. The package is an optional peer,
 * loaded by {@link loadTransactional} only with the `transactions` option: an
 * app without it loads nothing of nestjs-cls. The shapes below are the parts
 * of its `TransactionHost` we use; `test/unit/internals/cls-transactional-internals.spec.ts`
 * pins them against the real package (in a Node process of its own: the
 * package is CommonJS and requires Nest, which Jest cannot load).
 *
 * The seam: a `TransactionHost` runs every transaction that it starts
 * through its adapter's `wrapWithTransaction(options, fn, setTx)` (a new
 * transaction: `REQUIRED` with none active, `REQUIRES_NEW`, `NESTED` with
 * none active or an adapter without savepoints) or
 * `wrapWithNestedTransaction(options, fn, setTx, tx)` (a savepoint:
 * `NESTED` within a transaction). Each returns a promise that resolves once
 * the transaction (or savepoint) has committed and rejects once it has
 * rolled back. The adapter's functions live on the host's `_options`. The
 * host calls them in a CLS context of the transaction's own, copied from the
 * caller's: a value set there is the transaction's, seen by the code it
 * runs, and inherited by what nests in it.
 */

/** The adapter functions of a `TransactionHost` (`_options`, from the plugin's factory). */
interface AdapterOptions {
  wrapWithTransaction: (options: unknown, fn: () => Promise<unknown>, setTx: (tx?: unknown) => void) => Promise<unknown>;
  wrapWithNestedTransaction?: (
    options: unknown,
    fn: () => Promise<unknown>,
    setTx: (tx?: unknown) => void,
    tx: unknown,
  ) => Promise<unknown>;
}

/** The parts of nestjs-cls's `ClsService` used here. */
interface ClsLike {
  run<T>(options: { ifNested: 'inherit' }, fn: () => T): T;
  get(key: symbol): unknown;
  set(key: symbol, value: unknown): void;
}

/** A `TransactionHost` as its class builds it. */
export interface TransactionHostLike {
  readonly cls: ClsLike;
  readonly _options: AdapterOptions;
  isTransactionActive(): boolean;
  setTxInstance(tx: unknown): void;
}

/** The module `@nestjs-cls/transactional`, as far as it is used here. */
export interface TransactionalPackage {
  readonly TransactionHost: abstract new (...args: never[]) => object;
}

/** Loads `@nestjs-cls/transactional`; rejects with Node's `ERR_MODULE_NOT_FOUND` when it is not installed. */
export async function loadTransactional(): Promise<TransactionalPackage> {
  const name = '@nestjs-cls/transactional';
  const loaded = (await import(name)) as TransactionalPackage & { default?: TransactionalPackage };
  return loaded.TransactionHost === undefined && loaded.default !== undefined ? loaded.default : loaded;
}

/** Whether `error` says that the package itself (not something it imports) is missing. */
export function isTransactionalMissing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes("'@nestjs-cls/transactional'")
  );
}

/** The `TransactionHost`s among the app's provider instances (one per connection name). */
export function transactionHostsIn(pkg: TransactionalPackage, instances: Iterable<unknown>): TransactionHostLike[] {
  const hosts = new Set<TransactionHostLike>();
  for (const instance of instances) {
    if (instance instanceof pkg.TransactionHost) hosts.add(instance as unknown as TransactionHostLike);
  }
  return [...hosts];
}

/**
 * Runs each transaction that `host` starts through `around`: `nested` for a
 * savepoint within the active transaction. `around` runs in the
 * transaction's own CLS context, before it begins; it calls `start()`,
 * which begins the transaction and runs its code, and returns its promise:
 * settled once the transaction has committed or rolled back. Once per host.
 */
export function aroundTransactions(
  host: TransactionHostLike,
  around: (nested: boolean, start: () => Promise<unknown>) => Promise<unknown>,
): void {
  const adapter = host._options;
  if (wrapped.has(adapter)) return;
  wrapped.add(adapter);
  const { wrapWithTransaction, wrapWithNestedTransaction } = adapter;
  adapter.wrapWithTransaction = (options, fn, setTx) =>
    around(false, () => wrapWithTransaction.call(adapter, options, fn, setTx));
  if (typeof wrapWithNestedTransaction === 'function') {
    adapter.wrapWithNestedTransaction = (options, fn, setTx, tx) =>
      around(true, () => wrapWithNestedTransaction.call(adapter, options, fn, setTx, tx));
  }
}

const wrapped = new WeakSet<AdapterOptions>();

/**
 * Our value under `key` in the caller's CLS context: within a transaction
 * of `host`, what {@link setTransactionValue} set for it or, until then, for
 * the transaction it nests in. Kept in the CLS context rather than in an
 * `AsyncLocalStorage` of ours: each one enabled costs every async resource of
 * the process a little.
 */
export function transactionValue<T>(host: TransactionHostLike, key: symbol): T | undefined {
  return host.cls.get(key) as T | undefined;
}

/** Sets our value under `key` for the transaction starting: call it from the `around` of {@link aroundTransactions}. */
export function setTransactionValue(host: TransactionHostLike, key: symbol, value: unknown): void {
  host.cls.set(key, value);
}

/** Whether a transaction of `host` is active in the caller's async context. */
export function isTransactionActive(host: TransactionHostLike): boolean {
  return host.isTransactionActive();
}

/**
 * Runs `fn` in a copy of the caller's CLS context (request id and the rest
 * kept) where no transaction of `host` is active: queries made from it get
 * a connection of their own.
 */
export function withoutTransaction<T>(host: TransactionHostLike, fn: () => T): T {
  return host.cls.run({ ifNested: 'inherit' }, () => {
    host.setTxInstance(undefined);
    return fn();
  });
}
