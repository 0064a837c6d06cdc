import { pathToFileURL } from 'node:url';
import { threadTask, threadTaskOf } from '../../../lib/threads/thread-task.js';

/** The handle of a thread task: what it holds, and the mistakes it rejects at once. */

describe('threadTask()', () => {
  it('makes a handle named after its function, holding its module as a file: URL', () => {
    function makeThumbnail(_path: string) {}
    const handle = threadTask(import.meta.url, makeThumbnail);
    expect(handle.name).toBe('makeThumbnail');
    expect(threadTaskOf(handle)).toEqual({ moduleUrl: import.meta.url, fn: makeThumbnail, transfer: false });
    expect(threadTask(import.meta.url, () => undefined, { transfer: true }).name).toBe('anonymous');
  });

  it("takes a CommonJS module's __filename, an absolute path", () => {
    const handle = threadTask('/srv/app/dist/hash.task.js', () => undefined, { transfer: true });
    expect(threadTaskOf(handle)).toMatchObject({ moduleUrl: pathToFileURL('/srv/app/dist/hash.task.js').href, transfer: true });
  });

  it('calls its function with the arguments in one array, as the pool calls it in the thread', () => {
    const handle = threadTask(import.meta.url, (a: number, b: number) => a + b) as unknown as (args: number[]) => number;
    expect(handle([2, 3])).toBe(5);
  });

  it('tells only handles from other values', () => {
    expect(threadTaskOf(() => undefined)).toBeUndefined();
    expect(threadTaskOf({})).toBeUndefined();
    expect(threadTaskOf(undefined)).toBeUndefined();
  });

  it.each<[string, unknown[], string]>([
    [
      'a relative path',
      ['./hash.task.js', (): number => 1],
      'the first argument must be the module\'s own import.meta.url (or __filename in CommonJS), got a string ("./hash.task.js")',
    ],
    ['no module', [undefined, (): number => 1], 'got undefined'],
    [
      'no function',
      [import.meta.url, 'hash'],
      'threadTask(): the second argument must be the task function, got a string ("hash").',
    ],
    [
      'options that are no object',
      [import.meta.url, (): number => 1, true],
      'the third argument, if given, must be an options object ({ transfer }), got boolean (true).',
    ],
    [
      'an unknown option',
      [import.meta.url, (): number => 1, { transferList: [] }],
      'threadTask(): unknown option "transferList"; the options are transfer.',
    ],
    [
      'a transfer that is no boolean',
      [import.meta.url, (): number => 1, { transfer: 'yes' }],
      'threadTask(): option "transfer" must be a boolean, got a string ("yes").',
    ],
  ])('rejects %s with a TypeError that says what to pass', (_, args, message) => {
    const call = () => (threadTask as (...args: unknown[]) => unknown)(...args);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });
});
