import { EventEmitter } from 'node:events';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import { type HttpBackgroundTasks, httpTasksOf, peekHttpTasks } from '../../../lib/http/http-background-tasks.js';
import { requestTasksOf } from '../../../lib/request-scope/background-tasks.provider.js';
import { flush } from '../../utils/process-watch.js';
import {
  answerIntoClosed,
  clientLeaves,
  deny,
  failHandler,
  fakeRequestOf,
  fakeResponseOf,
  requestTasks,
  respond,
  setStatus,
} from '../../utils/request-tasks.js';
import { idle, stats } from '../../utils/task-record.js';
import { eventsOf, recordHooks } from '../../utils/unit-tasks.js';
import { watchEachTest } from '../../utils/unit-watch.js';
import { deferred, track, waitFor } from '../../utils/wait-for.js';

/**
 * HttpBackgroundTasks: the tasks of an HTTP request run once its response
 * has closed, and the status Nest wrote decides whether the request
 * succeeded (docs/semantics.md, rules 1, 4 and 5). The response is the fake
 * of test/utils/request-tasks.ts, which emits its events as often as told.
 */

const watched = watchEachTest();

/** A plain and an always task, which record their names when they run. */
function addPlainAndAlways(tasks: HttpBackgroundTasks, ran: string[]): void {
  tasks.addTask(function plain() {
    ran.push('plain');
  });
  tasks.addTaskWithOptions({ name: 'audit', always: true }, () => void ran.push('audit'));
}

describe('the response', () => {
  it('refuses a request that leads to no response, with the clear error, as its tasks could never run', () => {
    const request = { method: 'GET', url: '/orphan', headers: {} };
    expect(() => requestTasksOf(request, new TaskRunner())).toThrow(
      'BackgroundTasks found no response for this HTTP request, so its tasks could never run.',
    );
  });

  it("runs nothing on 'prefinish' or 'finish', only once the response has emitted 'close'", async () => {
    const runner = new TaskRunner();
    const tasks = requestTasks(runner);
    const ran: string[] = [];
    tasks.addTask(() => void ran.push('task'));
    const response = fakeResponseOf(tasks);
    Object.assign(response, { headersSent: true, writableEnded: true, statusCode: 201 });
    response.emit('prefinish');
    response.emit('finish');
    await flush();
    expect(ran).toEqual([]);
    expect(runner.stats()).toEqual(stats({ queued: 1 }));

    response.closed = true;
    response.emit('close');
    await idle(runner);
    expect(ran).toEqual(['task']);
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it('runs at once a task added after the response has closed, also when none was added before', async () => {
    const runner = new TaskRunner();
    const tasks = requestTasks(runner, 'POST', '/late');
    respond(tasks);
    const ran: string[] = [];
    tasks.addTask(() => void ran.push('late'));
    await idle(runner);
    expect(ran).toEqual(['late']);
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it("runs each task exactly once, however many 'close' and late 'prefinish' events the response emits", async () => {
    const runner = new TaskRunner();
    const events: string[] = [];

    // While the first task still runs.
    const busy = requestTasks(runner);
    const gate = deferred();
    busy.addTask(async () => {
      events.push('busy:slow');
      await gate.promise;
    });
    busy.addTask(() => void events.push('busy:next'));
    respond(busy);
    respond(busy);
    await waitFor('the slow task to start', () => events.includes('busy:slow'));
    respond(busy);
    fakeResponseOf(busy).emit('prefinish');
    gate.resolve();
    await waitFor('the next task to run', () => events.includes('busy:next'));
    respond(busy);
    await idle(runner);
    respond(busy, 500);
    fakeResponseOf(busy).emit('prefinish');

    // With only sync tasks, they have all run by the time the first 'close' has been handled.
    const quick = requestTasks(runner);
    quick.addTask(() => void events.push('quick:1'));
    quick.addTask(() => void events.push('quick:2'));
    respond(quick);
    respond(quick);
    await idle(runner);
    respond(quick);

    // A client that left: 'close', then Nest's answer ('prefinish'), then more of both.
    const left = requestTasks(runner);
    left.addTask(() => void events.push('left:1'));
    clientLeaves(left);
    answerIntoClosed(left, 201);
    answerIntoClosed(left, 201);
    clientLeaves(left);
    await idle(runner);

    await flush();
    expect(events).toEqual(['busy:slow', 'busy:next', 'quick:1', 'quick:2', 'left:1']);
    expect(runner.stats()).toEqual(stats({ succeeded: 5 }));
  });
});

describe('the request', () => {
  it('keeps one HttpBackgroundTasks per request, and adds no property to the request', async () => {
    // A property added to an Express request costs it a V8 map of its own, and every later lookup on it a miss.
    const runner = new TaskRunner();
    const tasks = requestTasks(runner);
    const request = fakeRequestOf(tasks);
    expect(httpTasksOf(request, runner)).toBe(tasks);
    expect(peekHttpTasks(request)).toBe(tasks);
    tasks.addTask(() => {});
    expect(Reflect.ownKeys(request)).toEqual(['method', 'url', 'headers', 'res']);
    respond(tasks);
    await idle(runner);
    expect(runner.stats()).toEqual(stats({ succeeded: 1 }));
  });

  it('has nothing for a request that asked for no tasks', () => {
    expect(peekHttpTasks({ method: 'GET', url: '/', headers: {}, res: new EventEmitter() })).toBeUndefined();
  });
});

describe('the status decides (rule 4)', () => {
  it.each([
    [200, 'succeeded'],
    [201, 'succeeded'],
    [204, 'succeeded'],
    [302, 'succeeded'],
    [399, 'succeeded'],
    [400, 'failed'],
    [403, 'failed'],
    [404, 'failed'],
    [423, 'failed'],
    [500, 'failed'],
  ] as const)('a response sent with %i: the request %s', async (status, outcome) => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = requestTasks(runner, 'POST', '/login');
    const ran: string[] = [];
    addPlainAndAlways(tasks, ran);
    respond(tasks, status);
    await idle(runner);

    if (outcome === 'succeeded') {
      expect(ran).toEqual(['plain', 'audit']);
      expect(runner.stats()).toEqual(stats({ succeeded: 2 }));
    } else {
      expect(ran).toEqual(['audit']);
      expect(of('onTaskDropped')).toStrictEqual([eventsOf('POST', '/login')('plain', [], { reason: 'request-failed' })]);
      expect(runner.stats()).toEqual(stats({ succeeded: 1, dropped: 1 }));
    }
  });

  it.each([
    ['whose handler failed (a 500)', failHandler],
    ['that a guard denied (a 403)', deny],
  ])('for a request %s, drops the tasks added afterwards too, except always ones, naming the request', async (_, fail) => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = requestTasks(runner, 'POST', '/login?attempt=2');
    const ran: string[] = [];
    addPlainAndAlways(tasks, ran);
    fail(tasks);
    await idle(runner);
    tasks.addTask(function late() {
      ran.push('late');
    });
    tasks.addTaskWithOptions({ name: 'lateAlways', always: true }, () => void ran.push('lateAlways'));
    await idle(runner);

    expect(ran).toEqual(['audit', 'lateAlways']);
    // The request has been let go of, and is still named, without its query string.
    const event = eventsOf('POST', '/login');
    expect(of('onTaskDropped')).toStrictEqual([
      event('plain', [], { reason: 'request-failed' }),
      event('late', [], { reason: 'request-failed' }),
    ]);
    expect(runner.stats()).toEqual(stats({ succeeded: 2, dropped: 2 }));
  });
});

describe('a client that goes away (rule 5)', () => {
  it.each([
    [201, ['plain', 'audit'], { succeeded: 2 }],
    [403, ['audit'], { succeeded: 1, dropped: 1 }],
  ])("waits for Nest's answer into the closed connection; its status (%i) decides", async (status, expected, counts) => {
    const runner = new TaskRunner();
    const tasks = requestTasks(runner);
    const ran: string[] = [];
    addPlainAndAlways(tasks, ran);
    clientLeaves(tasks);
    await flush();
    expect(ran).toEqual([]);
    expect(runner.stats()).toEqual(stats({ queued: 2 }));

    answerIntoClosed(tasks, status);
    await idle(runner);
    expect(ran).toEqual(expected);
    expect(runner.stats()).toEqual(stats(counts));
  });
});

describe('the origin: method and path', () => {
  it.each([
    ['a query string', { url: '/search?q=shoes&page=2' }, '/search'],
    ['an empty query string', { url: '/search?' }, '/search'],
    ['no query string', { url: '/search/shoes' }, '/search/shoes'],
    ["Express's originalUrl, over the url a router rewrote", { url: '/?q=1', originalUrl: '/api/search?q=1' }, '/api/search'],
  ])('names the path without the query string: %s', async (_, { url, ...extra }, path) => {
    const { hooks, of } = recordHooks();
    const runner = new TaskRunner(hooks);
    const tasks = requestTasks(runner, 'GET', url, extra);
    expect(tasks.origin.path).toBe(path);
    tasks.addTask(function index() {});
    respond(tasks);
    await idle(runner);
    expect(of('onTaskSucceeded').map(({ method, path: eventPath }) => `${method} ${eventPath}`)).toEqual([`GET ${path}`]);
    // Also once the tasks have let go of the request.
    expect(tasks.origin).toMatchObject({ transport: 'http', method: 'GET', path });
  });
});

describe("runInline() (mode 'inline')", () => {
  it.each([
    [true, 200, ['plain', 'audit']],
    [true, 201, ['plain', 'audit']],
    [true, 399, ['plain', 'audit']],
    [true, 400, ['audit']],
    [true, 404, ['audit']],
    [false, 200, ['audit']],
  ] as const)(
    'with the handler succeeded=%s and a status of %i set, resolves once what runs has run: %j',
    async (succeeded, status, expected) => {
      const runner = new TaskRunner({ mode: 'inline' });
      const tasks = requestTasks(runner);
      const ran: string[] = [];
      tasks.addTask(async function plain() {
        await flush(1);
        ran.push('plain');
      });
      tasks.addTaskWithOptions({ name: 'audit', always: true }, async () => {
        await flush(1);
        ran.push('audit');
      });
      setStatus(tasks, status);
      const inline = track(tasks.runInline(succeeded));
      await waitFor('runInline() to resolve', () => inline.settled);

      expect(ran).toEqual(expected);
      const dropped = expected.length === 2 ? 0 : 1;
      expect(runner.stats()).toEqual(stats({ succeeded: expected.length, dropped }));
      // The response's 'close' that follows changes nothing.
      respond(tasks, status);
      await flush();
      expect(runner.stats()).toEqual(stats({ succeeded: expected.length, dropped }));
      expect(watched.error).not.toHaveBeenCalled();
    },
  );
});
