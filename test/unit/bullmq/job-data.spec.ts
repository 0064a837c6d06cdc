import { checkJobData } from '../../../lib/bullmq/job-data.js';

describe('checkJobData', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('takes a job of the format, each optional field present or absent, and ignores fields it does not know', () => {
    const full = {
      args: ['ada', 1],
      context: true,
      name: 'welcome-ada',
      timeout: 500,
      trace: { traceparent, tracestate: 'k=v' },
      handedBackAt: 1_700_000_000_000,
    };
    expect(checkJobData('send', full)).toBe(full);
    const later = { args: [], addedByALaterVersion: { anything: 1 } };
    expect(checkJobData('send', later)).toBe(later);
  });

  /** What each field must be, as the messages say it, up to "got". */
  const must = {
    data: 'must be an object,',
    args: 'must be an array,',
    context: 'must be true,',
    name: 'must be a non-empty string,',
    timeout: 'must be a positive number of milliseconds, at most 2147483647, or Infinity;',
    trace: 'must be an object of strings (a trace context),',
    handedBackAt: 'must be a time in milliseconds since 1970 (Date.now()),',
  };

  it.each([
    [null, 'data', 'null'],
    [[1], 'data', 'an array'],
    [{}, 'args', 'undefined (undefined)'],
    [{ args: 'ada' }, 'args', 'a string ("ada")'],
    [{ args: [], context: 1 }, 'context', 'number (1)'],
    [{ args: [], context: false }, 'context', 'boolean (false)'],
    [{ args: [], name: '' }, 'name', 'a string ("")'],
    [{ args: [], name: 7 }, 'name', 'number (7)'],
    [{ args: [], timeout: 'abc' }, 'timeout', 'a string ("abc")'],
    [{ args: [], timeout: -5 }, 'timeout', 'number (-5)'],
    [{ args: [], timeout: null }, 'timeout', 'null'],
    [{ args: [], trace: 'x' }, 'trace', 'a string ("x")'],
    [{ args: [], trace: [traceparent] }, 'trace', 'an array'],
    [{ args: [], trace: { traceparent: 42 } }, 'trace', 'an object (Object)'],
    [{ args: [], trace: { traceparent, nested: {} } }, 'trace', 'an object (Object)'],
    [{ args: [], handedBackAt: '1700000000000' }, 'handedBackAt', 'a string ("1700000000000")'],
    [{ args: [], handedBackAt: -1 }, 'handedBackAt', 'number (-1)'],
  ] as const)('rejects %j, naming the field and what it got', (data, field, got) => {
    const where = field === 'data' ? 'its data' : `field "${field}" of its data`;
    expect(() => checkJobData('send', data)).toThrow(
      new TypeError(
        `Background job "send" is malformed: ${where} ${must[field]} got ${got}. ` +
          'It was not added by nestjs-background-tasks, or by an incompatible version: ' +
          'add jobs with addTask(), and give other producers a queue of their own.',
      ),
    );
  });
});
