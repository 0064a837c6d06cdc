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
    };
    expect(checkJobData('send', full)).toBe(full);
    const later = { args: [], addedByALaterVersion: { anything: 1 } };
    expect(checkJobData('send', later)).toBe(later);
  });

  const malformed = (field: string, problem: string) =>
    `Background job "send" is malformed: ${field} ${problem} ` +
    'It was not added by nestjs-background-tasks, or by an incompatible version: ' +
    'add jobs with addTask(), and give other producers a queue of their own.';

  it.each([
    [null, 'its data', 'must be an object, got null.'],
    [[1], 'its data', 'must be an object, got an array.'],
    [{}, 'field "args" of its data', 'must be an array, got undefined (undefined).'],
    [{ args: 'ada' }, 'field "args" of its data', 'must be an array, got a string ("ada").'],
    [{ args: [], context: 1 }, 'field "context" of its data', 'must be true, got number (1).'],
    [{ args: [], context: false }, 'field "context" of its data', 'must be true, got boolean (false).'],
    [{ args: [], name: '' }, 'field "name" of its data', 'must be a non-empty string, got a string ("").'],
    [{ args: [], name: 7 }, 'field "name" of its data', 'must be a non-empty string, got number (7).'],
    [
      { args: [], timeout: 'abc' },
      'field "timeout" of its data',
      'must be a positive number of milliseconds, at most 2147483647, or Infinity; got a string ("abc").',
    ],
    [
      { args: [], timeout: -5 },
      'field "timeout" of its data',
      'must be a positive number of milliseconds, at most 2147483647, or Infinity; got number (-5).',
    ],
    [
      { args: [], timeout: null },
      'field "timeout" of its data',
      'must be a positive number of milliseconds, at most 2147483647, or Infinity; got null.',
    ],
    [
      { args: [], trace: 'x' },
      'field "trace" of its data',
      'must be an object of strings (a trace context), got a string ("x").',
    ],
    [
      { args: [], trace: [traceparent] },
      'field "trace" of its data',
      'must be an object of strings (a trace context), got an array.',
    ],
    [
      { args: [], trace: { traceparent: 42 } },
      'field "trace" of its data',
      'must be an object of strings (a trace context), got an object (Object).',
    ],
    [
      { args: [], trace: { traceparent, nested: {} } },
      'field "trace" of its data',
      'must be an object of strings (a trace context), got an object (Object).',
    ],
  ])('rejects %j, naming the field and what it got', (data, field, problem) => {
    expect(() => checkJobData('send', data)).toThrow(new TypeError(malformed(field, problem)));
  });
});
