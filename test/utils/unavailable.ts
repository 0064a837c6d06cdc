/**
 * A suite whose service (Redis, PostgreSQL) is missing: skipped, its name
 * saying how to get the service; under `CI=true`, one failing test with the
 * same words instead, so that CI cannot pass without it.
 */
export function describeUnavailable(name: string, how: string, missing: string, body: () => void): void {
  if (process.env.CI === 'true') {
    // Thrown: Jest 30 has no global fail().
    describe(name, () =>
      it(how, () => {
        throw new Error(`${missing}: this suite ${how}.`);
      }),
    );
  } else {
    // The body still declares its tests, which Jest lists as skipped.
    describe.skip(`${name} (skipped: this suite ${how})`, body);
  }
}
