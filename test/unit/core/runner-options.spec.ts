import { MAX_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT } from '../../../lib/background-tasks.constants.js';
import { checkTimeout, resolveOptions } from '../../../lib/core/runner-options.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import type { BackgroundTasksModuleOptions } from '../../../lib/interfaces/index.js';
import { availableParallelism } from 'node:os';

/** Option resolution: the module's options, their defaults and their errors, and the timeouts check shared with the task options. */

describe('options', () => {
  it('defaults shutdownTimeout to 10000 ms', () => {
    expect(DEFAULT_SHUTDOWN_TIMEOUT).toBe(10_000);
    expect(resolveOptions().shutdownTimeout).toBe(10_000);
    expect(resolveOptions({}).shutdownTimeout).toBe(10_000);
    expect(resolveOptions({ shutdownTimeout: undefined }).shutdownTimeout).toBe(10_000);
    expect(() => new TaskRunner()).not.toThrow();
    expect(() => new TaskRunner(undefined)).not.toThrow();
  });

  it('accepts Infinity, 0 and a function onTaskFailed', () => {
    const onTaskFailed = () => undefined;
    expect(resolveOptions({ shutdownTimeout: Infinity }).shutdownTimeout).toBe(Infinity);
    expect(resolveOptions({ shutdownTimeout: 0 }).shutdownTimeout).toBe(0);
    expect(resolveOptions({ shutdownTimeout: 250, onTaskFailed })).toEqual({
      concurrency: Infinity,
      maxQueued: Infinity,
      overflow: 'reject',
      taskTimeout: Infinity,
      shutdownTimeout: 250,
      mode: 'background',
      tracing: false,
      transactions: false,
      threads: { maxThreads: Math.max(1, availableParallelism() - 1), minThreads: 0, idleTimeout: 30_000 },
      onTaskFailed,
    });
    expect(() => new TaskRunner({ shutdownTimeout: Infinity, onTaskFailed })).not.toThrow();
  });

  it.each([
    ['negative', -1, 'got number (-1).'],
    ['negative Infinity', -Infinity, 'got number (-Infinity).'],
    ['NaN', NaN, 'got number (NaN).'],
    ['a string', '100', 'got a string ("100").'],
    ['null', null, 'got null.'],
    ['a bigint', 100n, 'got bigint (100).'],
  ])('rejects a shutdownTimeout that is %s with a TypeError naming the option', (_, shutdownTimeout, got) => {
    const options = { shutdownTimeout } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(/"shutdownTimeout"/);
    expect(() => resolveOptions(options)).toThrow(got);
    expect(() => new TaskRunner(options)).toThrow(TypeError);
    expect(() => new TaskRunner(options)).toThrow(/"shutdownTimeout"/);
  });

  it.each([
    ['a string', 'log'],
    ['an object', {}],
    ['null', null],
    ['true', true],
  ])('rejects an onTaskFailed that is %s with a TypeError naming the option', (_, onTaskFailed) => {
    const options = { onTaskFailed } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(/"onTaskFailed"/);
    expect(() => new TaskRunner(options)).toThrow(TypeError);
    expect(() => new TaskRunner(options)).toThrow(/"onTaskFailed"/);
  });

  it('rejects options that are not an object', () => {
    for (const options of [null, 'fast', 5]) {
      expect(() => resolveOptions(options as unknown as BackgroundTasksModuleOptions)).toThrow(TypeError);
    }
  });

  it.each([
    ['concurrency', 0, 'must be a positive integer or Infinity, got number (0).'],
    ['concurrency', 1.5, 'must be a positive integer or Infinity'],
    ['maxQueued', -1, 'must be a positive integer or Infinity, got number (-1).'],
    ['maxQueued', '10', 'must be a positive integer or Infinity'],
    ['overflow', 'drop', "must be one of 'reject', 'drop-newest', 'drop-oldest'; got a string (\"drop\")."],
    ['mode', 'sync', "must be one of 'background', 'inline', 'disabled'; got a string (\"sync\")."],
    ['taskTimeout', 0, 'must be a positive number of milliseconds'],
    ['onTaskQueued', 'log', 'must be a function, got a string ("log").'],
  ])('rejects %s: %p with a TypeError naming the option', (name, value, problem) => {
    const options = { [name]: value } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(`BackgroundTasksModule: option "${name}" ${problem}`);
  });
});

describe('unknown option keys', () => {
  it.each([
    ['concurency', 'BackgroundTasksModule: unknown option "concurency". Did you mean "concurrency"?'],
    ['shutdownTimout', 'BackgroundTasksModule: unknown option "shutdownTimout". Did you mean "shutdownTimeout"?'],
    ['onTaskFail', 'BackgroundTasksModule: unknown option "onTaskFail". Did you mean "onTaskFailed"?'],
    ['retries', 'BackgroundTasksModule: unknown option "retries"; the options are concurrency, maxQueued, overflow,'],
  ])('rejects %p with a TypeError naming it, and the option it is closest to', (key, message) => {
    const options = { [key]: 5 } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(message);
  });
});

describe('transactions', () => {
  it('is off by default, and takes a boolean', () => {
    expect(resolveOptions().transactions).toBe(false);
    expect(resolveOptions({ transactions: true }).transactions).toBe(true);
  });

  it('rejects anything else with a TypeError that names the option', () => {
    const options = { transactions: 'yes' } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(
      new TypeError('BackgroundTasksModule: option "transactions" must be a boolean, got a string ("yes").'),
    );
  });
});

describe('tracing', () => {
  it('is off by default; true means every default: spans linked to their caller, and metrics', () => {
    expect(resolveOptions().tracing).toBe(false);
    expect(resolveOptions({ tracing: false }).tracing).toBe(false);
    expect(resolveOptions({ tracing: true }).tracing).toEqual({ parent: 'link', metrics: true });
    expect(resolveOptions({ tracing: { parent: 'child', metrics: false } }).tracing).toEqual({ parent: 'child', metrics: false });
  });

  it('resolves equal choices to the same object, so that two imports with equal options agree', () => {
    expect(resolveOptions({ tracing: true }).tracing).toBe(resolveOptions({ tracing: { parent: 'link' } }).tracing);
    expect(resolveOptions({ tracing: { metrics: false } }).tracing).toBe(resolveOptions({ tracing: { metrics: false } }).tracing);
    expect(Object.isFrozen(resolveOptions({ tracing: true }).tracing)).toBe(true);
  });

  it.each([
    [
      'a string',
      'on',
      'BackgroundTasksModule: option "tracing" must be a boolean, or an object with "parent" and "metrics", got a string ("on").',
    ],
    ['null', null, 'option "tracing" must be a boolean, or an object with "parent" and "metrics", got null.'],
    ['an array', [], 'got an array.'],
    ['a bad parent', { parent: 'sibling' }, `option "tracing.parent" must be one of 'link', 'child'; got a string ("sibling").`],
    ['a bad metrics', { metrics: 'yes' }, 'option "tracing.metrics" must be a boolean, got a string ("yes").'],
    [
      'a misspelt key',
      { parnet: 'child' },
      'BackgroundTasksModule: option "tracing": unknown option "parnet". Did you mean "parent"?',
    ],
    ['an unknown key', { exporter: 'otlp' }, 'unknown option "exporter"; the options are parent, metrics.'],
  ])('rejects %s with a TypeError that says what to write', (_, tracing, message) => {
    const options = { tracing } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(message);
  });
});

describe('threads', () => {
  it('defaults to one thread fewer than the cores, and at least one, none kept idle, idle ones ending after 30 s', () => {
    expect(resolveOptions().threads).toEqual({
      maxThreads: Math.max(1, availableParallelism() - 1),
      minThreads: 0,
      idleTimeout: 30_000,
    });
  });

  it('takes every option, and resolves equal choices to the same frozen object, so that two imports with equal options agree', () => {
    const threads = {
      maxThreads: 4,
      minThreads: 1,
      idleTimeout: 0,
      resourceLimits: { stackSizeMb: 4, maxOldGenerationSizeMb: 64 },
    };
    const resolved = resolveOptions({ threads }).threads;
    expect(resolved).toEqual(threads);
    expect(Object.isFrozen(resolved)).toBe(true);
    const reordered = { ...threads, resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 } };
    expect(resolveOptions({ threads: reordered }).threads).toBe(resolved);
    expect(resolveOptions({}).threads).toBe(resolveOptions({ threads: {} }).threads);
  });

  it.each([
    [
      'not an object',
      4,
      'option "threads" must be an object ({ maxThreads, minThreads, idleTimeout, resourceLimits }), got number (4).',
    ],
    ['a misspelt key', { maxThread: 2 }, 'option "threads": unknown option "maxThread". Did you mean "maxThreads"?'],
    ['maxQueue, which maxQueued is', { maxQueue: 2 }, 'option "threads": unknown option "maxQueue"'],
    ['maxThreads 0', { maxThreads: 0 }, 'option "threads.maxThreads" must be an integer of at least 1, got number (0).'],
    ['maxThreads Infinity', { maxThreads: Infinity }, 'option "threads.maxThreads" must be an integer of at least 1'],
    [
      'a negative minThreads',
      { minThreads: -1 },
      'option "threads.minThreads" must be an integer of at least 0, got number (-1).',
    ],
    [
      'minThreads above maxThreads',
      { minThreads: 3, maxThreads: 2 },
      'option "threads.minThreads" (3) is above "threads.maxThreads" (2). Lower minThreads, or raise maxThreads.',
    ],
    [
      'idleTimeout Infinity',
      { idleTimeout: Infinity },
      'option "threads.idleTimeout" must be a non-negative number of milliseconds',
    ],
    ['a string idleTimeout', { idleTimeout: '1s' }, 'got a string ("1s").'],
    ['resourceLimits not an object', { resourceLimits: 64 }, 'option "threads.resourceLimits" must be an object of limits'],
    [
      'an unknown resource limit',
      { resourceLimits: { maxOldSizeMb: 64 } },
      'option "threads.resourceLimits": unknown option "maxOldSizeMb"; the options are maxOldGenerationSizeMb,',
    ],
    [
      'a zero limit',
      { resourceLimits: { stackSizeMb: 0 } },
      'option "threads.resourceLimits.stackSizeMb" must be a positive number of megabytes, got number (0).',
    ],
  ])('rejects %s with a TypeError that says what to write', (_, threads, message) => {
    const options = { threads } as unknown as BackgroundTasksModuleOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(message);
  });
});

describe('checkTimeout', () => {
  const label = (problem: string) => `option "t" ${problem}`;

  it.each([
    ['a positive number', 1, false],
    ['a fraction of a millisecond', 0.5, false],
    ['the largest timer delay', MAX_TIMEOUT, false],
    ['Infinity', Infinity, false],
    ['0, where allowed (shutdown)', 0, true],
  ])('accepts %s', (_, value, allowZero) => {
    expect(checkTimeout(value, label, allowZero)).toBe(value);
  });

  it.each([
    ['0', 0, false, 'option "t" must be a positive number of milliseconds, at most 2147483647, or Infinity; got number (0).'],
    ['-1', -1, false, 'got number (-1).'],
    [
      '-1, even where 0 is allowed',
      -1,
      true,
      'must be a non-negative number of milliseconds, at most 2147483647, or Infinity; got number (-1).',
    ],
    ['-Infinity', -Infinity, true, 'got number (-Infinity).'],
    ['NaN', NaN, false, 'got number (NaN).'],
    ['2 ** 31, which a timer would fire at once', 2 ** 31, false, 'got number (2147483648).'],
    ['a string', '5', false, 'got a string ("5").'],
    ['null', null, true, 'got null.'],
    ['a bigint', 100n, true, 'got bigint (100).'],
  ])('rejects %s with a TypeError, prefixed by the label', (_, value, allowZero, message) => {
    expect(() => checkTimeout(value, label, allowZero)).toThrow(TypeError);
    expect(() => checkTimeout(value, label, allowZero)).toThrow(message);
  });
});
