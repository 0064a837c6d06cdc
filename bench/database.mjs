// PostgreSQL for pair 7 (transactions): where it is, and each server's table.
// As in the tests (test/utils/postgres.ts): DATABASE_URL, else PG_URL; without
// either, or when it does not answer, the pair is skipped with a note, and
// under CI=true the bench fails instead.
import pg from 'pg';

const HOW_TO_GET_POSTGRES =
  'set DATABASE_URL (or PG_URL) to a PostgreSQL 13 or later, e.g. postgresql://postgres@127.0.0.1:5432/test ' +
  '(on Debian: apt-get install postgresql)';

export const databaseUrl = () => process.env.DATABASE_URL ?? process.env.PG_URL;

/**
 * Whether pair 7 can run: `{ url }`, or `{ skipped }` saying why and how to
 * get a database. Under CI=true a missing database throws instead.
 */
export async function withDatabase() {
  const url = databaseUrl();
  let skipped;
  if (url === undefined) skipped = `no PostgreSQL: ${HOW_TO_GET_POSTGRES}`;
  else {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (error) {
      skipped = `PostgreSQL at DATABASE_URL does not answer (${error.message}): ${HOW_TO_GET_POSTGRES}`;
    } finally {
      await client.end().catch(() => {});
    }
  }
  if (skipped === undefined) return { url };
  if (process.env.CI === 'true') throw new Error(`pair 7 needs PostgreSQL under CI=true: ${skipped}`);
  return { skipped };
}

/**
 * A pool and an UNLOGGED table of this server's own (no WAL to write: the
 * commit costs the database less, and the server's CPU is what is measured).
 * `insert` adds a row through a Drizzle client; `close` drops the table and
 * ends the pool.
 */
export async function openDatabase() {
  const url = databaseUrl();
  if (url === undefined) throw new Error('the *-tx variants need DATABASE_URL (bench/run.mjs checks it first)');
  const [{ drizzle }, { sql }] = await Promise.all([import('drizzle-orm/node-postgres'), import('drizzle-orm')]);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const table = `bench_tx_${process.pid}`;
  await pool.query(`CREATE UNLOGGED TABLE IF NOT EXISTS "${table}" (id serial PRIMARY KEY, n integer NOT NULL)`);
  return {
    client: drizzle(pool),
    insert: (db, n) => db.execute(sql`INSERT INTO ${sql.identifier(table)} (n) VALUES (${n})`),
    async close() {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await pool.end();
    },
  };
}
