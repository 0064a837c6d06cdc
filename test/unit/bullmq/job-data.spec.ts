import type { JobData } from '../../../lib/bullmq/job-data.js';
import { traceOf } from '../../../lib/bullmq/job-data.js';

describe('traceOf', () => {
  const data = (trace: unknown): JobData => ({ args: [], trace }) as JobData;
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('reads the trace context a job carries', () => {
    expect(traceOf(data({ traceparent, tracestate: 'k=v' }))).toEqual({ traceparent, tracestate: 'k=v' });
  });

  it('ignores a missing or malformed one: anything could be in the queue, and the job still runs', () => {
    expect(traceOf({ args: [] })).toBeUndefined();
    for (const bad of [null, 'x', 42, [traceparent], { traceparent: 42 }, { traceparent, nested: {} }]) {
      expect(traceOf(data(bad))).toBeUndefined();
    }
  });
});
