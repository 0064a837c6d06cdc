import { jest } from '@jest/globals';
import { Server } from '@nestjs/microservices';
import { lastValueFrom, type Observable, of, Subject, throwError } from 'rxjs';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import { isMessageServer } from '../../../lib/internals/nest-internals.js';
import { watchAnswers } from '../../../lib/microservices/message-answers.js';
import { messageOrigin } from '../../../lib/microservices/message-context.js';
import { markWithoutTasks, messageTasksOf } from '../../../lib/microservices/message-tasks.js';
import { flush } from '../../utils/process-watch.js';
import { released } from '../../utils/task-record.js';

/**
 * The module wraps the handlers of every `Server` of `@nestjs/microservices`
 * when it starts listening (`wrapHandlersOnListen()` of nest-internals):
 * pinned here to the real base class, which every built-in transport
 * extends, with a transport that only calls back.
 */
class LoopbackServer extends Server {
  listens = 0;

  listen(callback: () => void): void {
    this.listens++;
    callback();
  }

  close(): void {}

  on(): void {}

  unwrap<T>(): T {
    return undefined as T;
  }
}

type Handler = (data: unknown, context: object) => Promise<unknown>;

function serverWith(handlers: Record<string, Handler>, events: Record<string, Handler[]> = {}): LoopbackServer {
  const server = new LoopbackServer();
  for (const [pattern, handler] of Object.entries(handlers)) server.addHandler(pattern, handler, false, { queue: pattern });
  for (const [pattern, chain] of Object.entries(events)) for (const handler of chain) server.addHandler(pattern, handler, true);
  return server;
}

const listening = (server: LoopbackServer) => new Promise<void>((resolve) => server.listen(resolve));
const handlerOf = (server: LoopbackServer, pattern: string) => server.getHandlerByPattern(pattern) as unknown as Handler;

describe('watchAnswers(): the answers of a microservice server', () => {
  it("recognizes Nest's Server", () => {
    expect(isMessageServer(new LoopbackServer())).toBe(true);
    expect(isMessageServer({ listen() {} })).toBe(false);
  });

  it('wraps each handler once the server listens, and keeps what transports read of it and the chain of event handlers', async () => {
    const answer = of('ack');
    const calls: unknown[][] = [];
    const handler: Handler = (...args) => (calls.push(args), Promise.resolve(answer));
    const first: Handler = () => Promise.resolve(undefined);
    const second: Handler = () => Promise.resolve(undefined);
    const server = serverWith({ 'orders.create': handler }, { 'orders.created': [first, second] });

    watchAnswers(server);
    // Handlers are registered before the server listens: they are wrapped then.
    expect(handlerOf(server, 'orders.create')).toBe(handler);
    await listening(server);

    const wrapped = handlerOf(server, 'orders.create');
    expect(wrapped).not.toBe(handler);
    expect({ ...wrapped }).toEqual({ isEventHandler: false, extras: { queue: 'orders.create' } });
    expect({ ...handlerOf(server, 'orders.created') }).toEqual({ isEventHandler: true, extras: {}, next: second });
    // Nest's event handler calls the next one of its pattern through itself.
    expect((first as { next?: unknown }).next).toBe(second);

    const context = {};
    await expect(wrapped({ id: 1 }, context)).resolves.toBe(answer);
    expect(calls).toEqual([[{ id: 1 }, context]]);
    expect(calls[0][1]).toBe(context);
    expect(server.listens).toBe(1);
  });

  it('wraps once, however many times the server is watched and listens', async () => {
    const handler: Handler = jest.fn(() => Promise.resolve('ack'));
    const server = serverWith({ ping: handler });
    watchAnswers(server);
    watchAnswers(server);
    await listening(server);
    const wrapped = handlerOf(server, 'ping');
    await listening(server);

    expect(handlerOf(server, 'ping')).toBe(wrapped);
    await wrapped(undefined, {});
    expect(handler).toHaveBeenCalledTimes(1);
    expect(server.listens).toBe(2);
  });

  it.each([
    ['nothing asked for tasks', (_context: object) => undefined],
    ['its handler started without tasks', markWithoutTasks],
  ])('leaves the answer of a message for which %s as it is', async (_case, prepare) => {
    const answer = of('ack');
    const server = serverWith({ ping: (_data, context) => (prepare(context), Promise.resolve(answer)) });
    watchAnswers(server);
    await listening(server);

    await expect(handlerOf(server, 'ping')(undefined, {})).resolves.toBe(answer);
  });

  it.each<[string, string, () => Observable<unknown> | string, { succeeded: number; dropped?: number }]>([
    [
      'an error',
      'the plain task is dropped, the always task runs',
      () => throwError(() => new Error('denied')),
      { succeeded: 1, dropped: 1 },
    ],
    ['a value', 'both run', () => of('ack'), { succeeded: 2 }],
    ['a plain value (no interceptor)', 'both run', () => 'ack', { succeeded: 2 }],
  ])(
    'releases the tasks that a message has by the time its answer is ready one macrotask after the answer ends, with %s: %s',
    async (answered, _outcome, answerOf, counts) => {
      const { runner, ran, answer } = await answeredWithTasks(answerOf());
      if (typeof answer !== 'string') await lastValueFrom(answer as Observable<unknown>).catch(() => undefined);
      // The transport hands the answer over on the next ticks: the tasks wait for the next macrotask.
      expect(runner.stats()).toMatchObject({ queued: 2 });

      await released(runner, `the tasks of a message answered with ${answered}`);
      expect(runner.stats()).toMatchObject({ queued: 0, failed: 0, dropped: 0, ...counts });
      expect(ran).toEqual(counts.dropped ? ['always'] : ['plain', 'always']);
    },
  );

  describe('a transport that unsubscribes from the answer before it ends, as gRPC does when a call is cancelled', () => {
    it('after a value: the handler had returned, so both tasks run, and the answer is unsubscribed', async () => {
      const stream = new Subject<string>();
      const { runner, ran, answer } = await answeredWithTasks(stream.asObservable());
      const values: unknown[] = [];
      const call = (answer as Observable<unknown>).subscribe((value) => values.push(value));
      stream.next('accepted');
      call.unsubscribe();

      await released(runner, 'the tasks of a message whose transport left after a value');
      expect(values).toEqual(['accepted']);
      expect(stream.observed).toBe(false);
      expect(runner.stats()).toMatchObject({ queued: 0, succeeded: 2, failed: 0, dropped: 0 });
      expect(ran).toEqual(['plain', 'always']);
    });

    it.each<[string, (stream: Subject<string>) => void, string[], { succeeded: number; dropped?: number }]>([
      [
        'an error: the plain task is dropped, the always task runs',
        (stream) => stream.error(new Error('denied')),
        ['always'],
        { succeeded: 1, dropped: 1 },
      ],
      ['a value: both run', (stream) => stream.next('late'), ['plain', 'always'], { succeeded: 2 }],
      ['its end: both run', (stream) => stream.complete(), ['plain', 'always'], { succeeded: 2 }],
    ])(
      'before anything: the answer stays watched, and what it does first decides, %s',
      async (_case, first, expected, counts) => {
        const stream = new Subject<string>();
        const { runner, ran, answer } = await answeredWithTasks(stream.asObservable());
        (answer as Observable<unknown>).subscribe().unsubscribe();

        // Turns enough for a release, had it wrongly been scheduled: nothing is decided yet.
        await flush();
        expect(runner.stats()).toMatchObject({ queued: 2 });
        expect(stream.observed).toBe(true);

        first(stream);
        await released(runner, 'the tasks of a message whose transport left before its answer did anything');
        expect(stream.observed).toBe(false);
        expect(runner.stats()).toMatchObject({ queued: 0, failed: 0, dropped: 0, ...counts });
        expect(ran).toEqual(expected);
      },
    );
  });
});

/**
 * A watched server whose handler adds a plain and an `always` task to its
 * message, then answers `answer`: the answer as the transport gets it, and
 * the tasks that ran.
 */
async function answeredWithTasks(answer: Observable<unknown> | string) {
  const runner = new TaskRunner();
  const ran: string[] = [];
  const server = serverWith({
    ping: (_data, context) => {
      const tasks = messageTasksOf(context, runner, messageOrigin('ping'));
      const plain = () => void ran.push('plain');
      const always = () => void ran.push('always');
      tasks.addTask(plain);
      tasks.addTaskWithOptions({ always: true }, always);
      return Promise.resolve(answer);
    },
  });
  watchAnswers(server);
  await listening(server);
  return { runner, ran, answer: await handlerOf(server, 'ping')(undefined, {}) };
}
