/** A metrics client (StatsD, Prometheus, …). */
export const metrics = {
  histogram(name: string, value: number, labels: Record<string, string>): void {
    void name;
    void value;
    void labels;
  },
  increment(name: string, labels: Record<string, string | undefined>): void {
    void name;
    void labels;
  },
};
