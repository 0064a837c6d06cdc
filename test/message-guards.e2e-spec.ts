import type { INestApplicationContext } from '@nestjs/common';
import { type ClientProxy, ClientProxyFactory, type RedisOptions, type TcpOptions, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import type { AddressInfo, Server } from 'node:net';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { BackgroundTasksMonitor } from '../lib/index.js';
import { AuditingGuard, GuardedController, journal, patterns, type Visit } from './fixtures/message-guards.app.js';
import { replyRecorder } from './utils/reply-recorder.js';
import { CapturingLogger } from './utils/capture-logs.js';
import { count as countIn, expectInOrder as expectInOrderIn } from './utils/journal.js';
import { expectStats, released, resetTaskRecord, SHORT_SHUTDOWN_TIMEOUT, taskRecord, tasksModule } from './utils/task-record.js';
import { waitFor } from './utils/wait-for.js';

// Nest's logger override is process-wide, so every app of this file shares one; it keeps the denials out of the output.
const logger = new CapturingLogger();

const count = (entry: string) => countIn(journal, entry);
const expectInOrder = (entries: string[]) => expectInOrderIn(journal, entries);

const recorder = replyRecorder(journal);

// ─── the transports ──────────────────────────────────────────────────────────

/** Redis at REDIS_URL, else on this machine's default port. */
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const redisOptions = {
  host: redisUrl.hostname,
  port: Number(redisUrl.port || 6379),
  ...(redisUrl.username && { username: decodeURIComponent(redisUrl.username) }),
  ...(redisUrl.password && { password: decodeURIComponent(redisUrl.password) }),
};

async function redisReachable(): Promise<boolean> {
  const probe = new Redis({ ...redisOptions, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const redisUp = await redisReachable();
if (!redisUp) {
  const problem = `No Redis at ${redisOptions.host}:${redisOptions.port}`;
  if (process.env.CI === 'true') throw new Error(`${problem}: CI must run the Redis suite.`);
  console.warn(
    `${problem}: the Redis cases are skipped. Start one with \`redis-server\` (or docker run -p 6379:6379 redis:7), or set REDIS_URL.`,
  );
}

/** A started microservice, with a client connected to it. */
interface Connected {
  readonly context: INestApplicationContext;
  readonly client: ClientProxy;
}

type Starter = (metadata: Parameters<typeof Test.createTestingModule>[0]) => Promise<Connected>;

const boundPort = (microservice: { unwrap<T>(): T }) => (microservice.unwrap<Server>().address() as AddressInfo).port;
const tcp = { transport: Transport.TCP, options: { host: '127.0.0.1', port: 0, serializer: recorder } } satisfies TcpOptions;
const tcpClient = (port: number) => ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });

const standaloneTcp: Starter = async (metadata) => {
  const microservice = (await Test.createTestingModule(metadata).compile()).createNestMicroservice(tcp);
  microservice.useLogger(logger);
  await microservice.listen();
  return { context: microservice, client: tcpClient(boundPort(microservice)) };
};

const hybridTcp =
  (inheritAppConfig: boolean): Starter =>
  async (metadata) => {
    const app = (await Test.createTestingModule(metadata).compile()).createNestApplication();
    app.useLogger(logger);
    const microservice = app.connectMicroservice(tcp, { inheritAppConfig });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    return { context: app, client: tcpClient(boundPort(microservice)) };
  };

const standaloneRedis: Starter = async (metadata) => {
  const options = { ...redisOptions, serializer: recorder };
  const microservice = (await Test.createTestingModule(metadata).compile()).createNestMicroservice<RedisOptions>({
    transport: Transport.REDIS,
    options,
  });
  microservice.useLogger(logger);
  await microservice.listen();
  await serverSubscribed(Object.values(patterns));
  return { context: microservice, client: ClientProxyFactory.create({ transport: Transport.REDIS, options: redisOptions }) };
};

/** The server sends SUBSCRIBE without waiting for Redis to confirm: a message published before it would be lost. */
async function serverSubscribed(channels: string[]): Promise<void> {
  const redis = new Redis(redisOptions);
  try {
    await waitFor('the server to subscribe to its channels', async () => {
      const counts = (await redis.pubsub('NUMSUB', ...channels)) as Array<string | number>;
      return counts.filter((_, i) => i % 2 === 1).every((subscribers) => Number(subscribers) > 0);
    });
  } finally {
    redis.disconnect();
  }
}

const tcpTransports: Array<[string, Starter]> = [
  ['TCP, a standalone microservice', standaloneTcp],
  ['TCP, a hybrid app (inheritAppConfig: true)', hybridTcp(true)],
  ['TCP, a hybrid app WITHOUT inheritAppConfig (no interceptor)', hybridTcp(false)],
];
const redisTransports: Array<[string, Starter]> = [['Redis, a standalone microservice', standaloneRedis]];

// ─── the cases ───────────────────────────────────────────────────────────────

beforeEach(() => {
  journal.length = 0;
  resetTaskRecord();
  logger.warnings.length = 0;
});

const title = 'A message that its guard rejects after adding tasks: %s';
describe.each(redisUp ? [...tcpTransports, ...redisTransports] : tcpTransports)(title, guardCases);
if (!redisUp) describe.skip.each(redisTransports)(title, guardCases);

function guardCases(_kind: string, start: Starter): void {
  let connected: Connected;
  let runner: BackgroundTasksMonitor;

  beforeEach(async () => {
    connected = await start({
      imports: [tasksModule({ shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT })],
      controllers: [GuardedController],
      providers: [AuditingGuard],
    });
    runner = connected.context.get(BackgroundTasksMonitor);
    await connected.client.connect();
  });

  afterEach(async () => {
    await connected?.client.close();
    await connected?.context.close();
    // Nothing was left for shutdown to drop (its warning names every task: the start says enough).
    expect(logger.warnings.map((line) => line.slice(0, 200))).toEqual([]);
  });

  const send = (pattern: string, visit: Visit) => firstValueFrom(connected.client.send<string, Visit>(pattern, visit));
  const failure = (pattern: string, visit: Visit) =>
    send(pattern, visit).then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    );
  const emit = (pattern: string, visit: Visit) =>
    lastValueFrom(connected.client.emit(pattern, visit), { defaultValue: undefined });

  it('releases them once the error answer has gone out: the plain task is dropped, the always task runs', async () => {
    await expect(send(patterns.guarded, { id: 'v-1', deny: 'false' })).rejects.toEqual({
      status: 'error',
      message: 'Forbidden resource',
    });
    await released(runner, 'the tasks of the rejected message v-1');

    expectInOrder(['guard:v-1', 'sent:error', 'sent:end', 'audit:v-1']);
    expect(journal).toHaveLength(4);
    expect(taskRecord.dropped).toEqual([expect.objectContaining({ name: 'deliver', reason: 'request-failed', args: ['v-1'] })]);
    expect(taskRecord.succeeded).toEqual([expect.objectContaining({ name: 'audit', args: ['v-1'], path: patterns.guarded })]);
    expectStats(runner, { succeeded: 1, dropped: 1 });
  });

  it('leaves none of 1,000 rejected messages behind: exactly 1,000 dropped, 1,000 always tasks run, nothing queued', async () => {
    const visits = Array.from({ length: 1000 }, (_, i): Visit => ({ id: `r-${i}`, deny: i % 2 === 0 ? 'false' : 'throw' }));
    const answers = await Promise.all(visits.map((visit) => failure(patterns.guarded, visit)));
    await released(runner, 'the tasks of 1,000 rejected messages');

    expect(answers).toEqual(
      visits.map(({ id, deny }) => ({
        error: { status: 'error', message: deny === 'false' ? 'Forbidden resource' : `visit ${id} denied` },
      })),
    );
    expect(count('handler:r-0')).toBe(0);
    expect(journal.filter((entry) => entry.startsWith('handler:') || entry.startsWith('deliver:'))).toEqual([]);
    expect(Object.fromEntries(visits.map(({ id }) => [id, count(`audit:${id}`)]))).toEqual(
      Object.fromEntries(visits.map(({ id }) => [id, 1])),
    );
    expect(taskRecord.dropped.every(({ reason, name }) => reason === 'request-failed' && name === 'deliver')).toBe(true);
    expectStats(runner, { dropped: 1000, succeeded: 1000 });
  });

  it('releases the tasks of 200 events that the guard rejects, as failed', async () => {
    const visits = Array.from({ length: 200 }, (_, i): Visit => ({ id: `e-${i}`, deny: i % 2 === 0 ? 'false' : 'throw' }));
    await Promise.all(visits.map((visit) => emit(patterns.guardedEvent, visit)));
    // An event has no answer to wait for: wait for the guard to have added every task.
    await waitFor('the guard to add the tasks of every event', () => taskRecord.queued === 400);
    await released(runner, 'the tasks of 200 rejected events');

    expect(journal.filter((entry) => entry.startsWith('handler:') || entry.startsWith('deliver:'))).toEqual([]);
    expectStats(runner, { dropped: 200, succeeded: 200 });
  });

  it('runs both tasks of a message that the guard admits, once each', async () => {
    expect(await send(patterns.guarded, { id: 'a-1' })).toBe('ack:a-1');
    await released(runner, 'the tasks of the admitted message a-1');

    expectInOrder(['guard:a-1', 'handler:a-1', 'sent:ack:a-1', 'sent:end', 'deliver:a-1', 'audit:a-1']);
    expect(journal).toHaveLength(6);
    expectStats(runner, { succeeded: 2 });
  });

  it('a ValidationPipe that rejects the payload of an admitted message: the handler never runs, the tasks are released as failed', async () => {
    await expect(send(patterns.validated, { id: 'p-1', quantity: 0 })).rejects.toEqual({
      status: 'error',
      message: 'invalid visit',
    });
    await released(runner, 'the tasks of the message p-1 that the pipe rejected');

    expectInOrder(['guard:p-1', 'sent:error', 'audit:p-1']);
    expect(count('handler:p-1') + count('deliver:p-1')).toBe(0);
    expectStats(runner, { succeeded: 1, dropped: 1 });
  });

  it.each<[string, string, { error: unknown } | { reply: unknown }, { succeeded: number; dropped?: number }]>([
    [
      'with an error of its own: dropped as failed',
      patterns.filteredToError,
      { error: { code: 'denied', id: 'f-1' } },
      { succeeded: 1, dropped: 1 },
    ],
    [
      'with a value: the message did not fail, both tasks run',
      patterns.filteredToValue,
      { reply: 'excused:f-1' },
      { succeeded: 2 },
    ],
  ])('an exception filter that answers the guard’s error %s', async (_case, pattern, answer, counts) => {
    expect(await failure(pattern, { id: 'f-1', deny: 'false' })).toEqual(answer);
    await released(runner, 'the tasks of the message f-1 whose error the filter answered');

    expect(count('handler:f-1')).toBe(0);
    expectStats(runner, counts);
  });
}

describe('A message that its guard rejects, in inline mode: its always task runs after the error answer, as no handler finished', () => {
  let connected: Connected;

  afterEach(async () => {
    await connected?.client.close();
    await connected?.context.close();
  });

  it('drops the plain task and runs the always one', async () => {
    connected = await standaloneTcp({
      imports: [tasksModule({ mode: 'inline', shutdownTimeout: SHORT_SHUTDOWN_TIMEOUT })],
      controllers: [GuardedController],
      providers: [AuditingGuard],
    });
    const runner = connected.context.get(BackgroundTasksMonitor);
    await expect(firstValueFrom(connected.client.send(patterns.guarded, { id: 'i-1', deny: 'false' }))).rejects.toEqual({
      status: 'error',
      message: 'Forbidden resource',
    });
    await released(runner, 'the tasks of the rejected message i-1');

    expectInOrder(['guard:i-1', 'sent:error', 'sent:end', 'audit:i-1']);
    expectStats(runner, { succeeded: 1, dropped: 1 });
  });
});
