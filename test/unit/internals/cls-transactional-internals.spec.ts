import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Pins lib/internals/cls-transactional-internals.ts against the real
 * @nestjs-cls/transactional. The package is CommonJS and require()s Nest,
 * which is ESM-only, so Jest cannot load it: the check runs in a Node
 * process of its own, on the built dist/ (`npm test` builds first), over a
 * real TransactionHost with a stand-in adapter.
 */
const INTERNALS = new URL('../../../dist/internals/cls-transactional-internals.js', import.meta.url).href;
const root = fileURLToPath(new URL('../../..', import.meta.url));

const SCRIPT = `
import 'reflect-metadata';
import * as internals from ${JSON.stringify(INTERNALS)};
import { ClsServiceManager } from 'nestjs-cls';
const pkg = await internals.loadTransactional();
const { Propagation } = await import('@nestjs-cls/transactional');
const seen = [];
const adapter = {
  wrapWithTransaction: async (options, fn, setTx) => { setTx('tx'); return fn(); },
  wrapWithNestedTransaction: async (options, fn, setTx) => { setTx('savepoint'); return fn(); },
  getFallbackInstance: () => 'fallback',
};
const host = new pkg.TransactionHost(adapter);
const found = internals.transactionHostsIn(pkg, [{}, host, host]);
// Each transaction's value, set in its own CLS context; the parent's seen first.
const KEY = Symbol('value');
const parents = [];
internals.aroundTransactions(host, (nested, start) => {
  seen.push(nested ? 'savepoint' : 'transaction');
  parents.push(internals.transactionValue(host, KEY) ?? null);
  internals.setTransactionValue(host, KEY, nested ? 'savepoint value' : 'transaction value');
  return start().then((value) => (seen.push('ended'), value));
});
const cls = ClsServiceManager.getClsService();
const result = await cls.run(async () => {
  const inTransaction = await host.withTransaction(async () => {
    const inside = internals.isTransactionActive(host);
    const cleared = internals.withoutTransaction(host, () => [internals.isTransactionActive(host), host.tx]);
    const still = internals.isTransactionActive(host);
    const nested = await host.withTransaction(Propagation.Nested, async () => [host.tx, internals.transactionValue(host, KEY)]);
    return { inside, cleared, still, nested, value: internals.transactionValue(host, KEY) };
  });
  return { ...inTransaction, after: internals.transactionValue(host, KEY) ?? null };
});
let missing;
try { await import('@nestjs-cls/no-such-package'); } catch (error) { missing = error; }
const missingError = Object.assign(new Error(missing.message.replace('no-such-package', 'transactional')), { code: missing.code });
console.log(JSON.stringify({
  found: found.length,
  result,
  seen,
  parents,
  outside: internals.isTransactionActive(host),
  missing: internals.isTransactionalMissing(missingError),
  other: internals.isTransactionalMissing(missing),
}));
`;

describe('cls-transactional-internals against @nestjs-cls/transactional', () => {
  it('finds the TransactionHost, wraps its adapter functions in CLS contexts of their own, sees and clears its transaction', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      found: 1,
      result: {
        inside: true,
        cleared: [false, 'fallback'],
        still: true,
        nested: ['savepoint', 'savepoint value'],
        value: 'transaction value',
        after: null,
      },
      seen: ['transaction', 'savepoint', 'ended', 'ended'],
      parents: [null, 'transaction value'],
      outside: false,
      missing: true,
      other: false,
    });
  });
});
