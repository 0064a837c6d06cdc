import { describeUnavailable } from './unavailable.js';

/**
 * Where the PostgreSQL suites find their server: `DATABASE_URL`, else
 * `PG_URL`. Without either they are skipped, saying how to get one; under
 * `CI=true` they fail instead (`.ci/run` points them at the machine's server).
 * Nothing else in the suite needs PostgreSQL.
 */
const HOW_TO_GET_POSTGRES =
  'needs PostgreSQL 13 or later: set DATABASE_URL (or PG_URL), e.g. postgresql://postgres@127.0.0.1:5432/test (on Debian: apt-get install postgresql)';

/** `describe`, with PostgreSQL: `body` gets the server's URL. */
export function describeWithPostgres(name: string, body: (url: string) => void): void {
  const url = process.env.DATABASE_URL ?? process.env.PG_URL;
  if (url !== undefined) describe(name, () => body(url));
  else describeUnavailable(name, HOW_TO_GET_POSTGRES, 'No PostgreSQL', () => body(''));
}
