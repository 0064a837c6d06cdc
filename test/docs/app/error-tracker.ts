/** An error tracker's client (Sentry, Bugsnag, …). */
export const errorTracker = {
  capture(error: unknown, context: Record<string, unknown>): void {
    void error;
    void context;
  },
};
