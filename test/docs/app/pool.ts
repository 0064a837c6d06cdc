/** A database connection pool, such as `pg`'s. */
export class Pool {
  async end(): Promise<void> {}
}
