import type { INestApplication } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createSampleApp, httpAdapter, SAMPLE_ADAPTERS } from '../sample/create-app.js';
import { MessagesController } from '../sample/notifications/messages.controller.js';
import { NotificationsController } from '../sample/notifications/notifications.controller.js';
import { waitFor, within } from './utils/wait-for.js';

// Built the way sample/main.ts builds it, on each adapter that ADAPTER can name.
describe.each(SAMPLE_ADAPTERS)('sample app (ADAPTER=%s)', (adapter) => {
  const previousLogFile = process.env.LOG_FILE;
  let dir: string;
  let logFile: string;
  let app: INestApplication;

  const readLog = () => readFile(logFile, 'utf8').catch(() => '');
  /** The log once it holds `count` complete lines. */
  const logWithLines = (count: number) =>
    waitFor(`${count} lines in the log`, async () => {
      const text = await readLog();
      return text.split('\n').length - 1 >= count && text;
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-background-tasks-sample-'));
    logFile = join(dir, 'log.txt');
    // The sample reads LOG_FILE whenever a task writes.
    process.env.LOG_FILE = logFile;
    // abortOnError: false, or the app.get() that is meant to throw would exit the process.
    app = await createSampleApp(adapter, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    if (previousLogFile === undefined) delete process.env.LOG_FILE;
    else process.env.LOG_FILE = previousLogFile;
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => writeFile(logFile, ''));

  describe('FastAPI example 1: POST /send-notification/:email, @Background()', () => {
    it('responds, then overwrites the log with the notification', async () => {
      await writeFile(logFile, 'old content\n');

      await request(app.getHttpServer())
        .post('/send-notification/alice@example.com')
        .expect(201, { message: 'Notification sent in the background' });

      const log = await waitFor('the notification', async () => {
        const text = await readLog();
        return text.endsWith('some notification\n') && text;
      });
      expect(log).toBe('notification for alice@example.com: some notification\n');
    });

    it('keeps the controller a singleton', () => {
      expect(app.get(NotificationsController)).toBeInstanceOf(NotificationsController);
      // Constructor injection makes MessagesController request-scoped: no static instance.
      expect(() => app.get(MessagesController)).toThrow();
    });
  });

  describe('FastAPI example 2: POST /send-message/:email?q=, QueryPipe and the controller inject BackgroundTasks', () => {
    it("appends the pipe's line, then the handler's", async () => {
      await writeFile(logFile, 'earlier line\n');

      await request(app.getHttpServer())
        .post('/send-message/bob@example.com')
        .query({ q: 'hello' })
        .expect(201, { message: 'Message sent' });

      expect(await logWithLines(3)).toBe('earlier line\nfound query: hello\nmessage to bob@example.com\n');
    });

    it('adds no query line without q', async () => {
      await request(app.getHttpServer()).post('/send-message/dan@example.com').expect(201, { message: 'Message sent' });

      // The pipe's task would have run first.
      expect(await logWithLines(1)).toBe('message to dan@example.com\n');
    });
  });

  describe('POST /subscribe/:email: a guard and a service add tasks', () => {
    it("logs the guard's audit line, then the service's", async () => {
      await request(app.getHttpServer()).post('/subscribe/carol@example.com').expect(201, { message: 'Subscribed' });

      expect(await logWithLines(2)).toBe('audit: POST /subscribe/carol@example.com\nsubscribed carol@example.com\n');
    });

    it('runs only the always audit task of a failed request', async () => {
      await request(app.getHttpServer()).post('/subscribe/nope').expect(400);
      expect(await logWithLines(1)).toBe('audit: POST /subscribe/nope\n');
      // A request that succeeds afterwards shows that nothing else was written.
      await request(app.getHttpServer()).post('/subscribe/erin@example.com').expect(201);

      expect(await logWithLines(3)).toBe(
        'audit: POST /subscribe/nope\naudit: POST /subscribe/erin@example.com\nsubscribed erin@example.com\n',
      );
    });
  });

  describe('beyond the request: POST /reports and GET /health', () => {
    it('answers 202 at once, and the event listener’s app task writes the report line', async () => {
      await request(app.getHttpServer()).post('/reports').expect(202, { message: 'Report requested' });
      expect(await logWithLines(1)).toMatch(/^report of \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    });

    it('reports the background tasks up, with their counts', async () => {
      const { body } = await request(app.getHttpServer()).get('/health').expect(200);
      expect(body.info).toEqual({ backgroundTasks: { status: 'up', queued: 0, running: 0, maxQueued: 1000 } });
    });
  });

  describe('POST /welcome/:email: a durable task, in-process without REDIS_URL', () => {
    it('answers 202, then the handler writes the welcome line, in this process', async () => {
      await request(app.getHttpServer()).post('/welcome/dave@example.com').expect(202, { message: 'Welcome email on its way' });
      expect(await logWithLines(1)).toBe(`welcome email to dave@example.com, sent by process ${process.pid}\n`);
    });
  });
});

describe('sample app: choosing the adapter', () => {
  it('makes the adapter ADAPTER names, Express when it is not set, and refuses a name it does not know', () => {
    expect(SAMPLE_ADAPTERS.map((name) => httpAdapter(name).getType())).toEqual(['express', 'fastify']);
    expect(httpAdapter().getType()).toBe('express');
    expect(() => httpAdapter('koa')).toThrow('ADAPTER must be one of express, fastify; got "koa".');
  });
});

describe('npm start', () => {
  it('serves the sample, and stops it cleanly, app included, when npm gets SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nestjs-background-tasks-start-'));
    const npm = spawn('npm', ['start'], {
      cwd: join(import.meta.dirname, '..'),
      env: { ...process.env, PORT: '0', LOG_FILE: join(dir, 'log.txt') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<string>((resolve) => npm.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
    try {
      let output = '';
      npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const url = await waitFor(
        'the sample to print its address',
        () => /curl -X POST (http:\/\/localhost:\d+)\//.exec(output)?.[1],
        60_000,
      );
      await request(url).post('/send-notification/ada@example.com').expect(201);
      // The thread task runs where Jest cannot: in a worker thread that loads the built sample/hashes/hash.task.js.
      await request(url).post('/hashes/ada').expect(202, { message: 'Hashing in a worker thread' });
      await waitFor(
        'the hash line',
        async () => /\nhash of ada: [\da-f]{8}\n$/.test(await readFile(join(dir, 'log.txt'), 'utf8')),
        30_000,
      );

      npm.kill('SIGTERM');
      // npm passes the signal on; the app drains its tasks, and exits by the same signal, as Nest re-raises it.
      expect(await within('npm to exit', exited, 20_000)).toBe('SIGTERM');
      // The app itself stopped too: nothing answers on its port any more.
      await expect(request(url).post('/send-notification/ada@example.com')).rejects.toThrow(/ECONNREFUSED/);
      expect(await readFile(join(dir, 'log.txt'), 'utf8')).toMatch(
        /^notification for ada@example.com: some notification\nhash of ada: [\da-f]{8}\n$/,
      );
    } finally {
      npm.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
