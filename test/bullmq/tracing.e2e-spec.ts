import { type INestApplication, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SpanKind } from '@opentelemetry/api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { BackgroundTasksModuleOptions } from '../../lib/index.js';
import { bullmqAppModule } from '../fixtures/bullmq.app.js';
import { RequestSpan } from '../fixtures/tracing.app.js';
import { post } from '../utils/http.js';
import { OtelSdk } from '../utils/otel-sdk.js';
import { describeWithRedis, type TestRedis } from '../utils/redis.js';
import { waitFor } from '../utils/wait-for.js';
import { inspectQueue, uniqueQueue } from './bullmq-app.js';
import { WorkerProcesses, workerSpans, type WorkerSpan } from './worker-processes.js';

/**
 * One trace from the HTTP request to the worker: a web process (tracing on,
 * a request span started by a middleware, as the HTTP instrumentation would)
 * enqueues a handler's task, and a worker in another process, with tracing
 * on and its spans written to a file, runs the job in a span related to the
 * request's.
 */

const sdk = new OtelSdk();
afterAll(() => sdk.shutdown());

/** The BullMQ fixture app, web-only, with a span per request. */
async function startWeb(redis: TestRedis, queueName: string, tasks: BackgroundTasksModuleOptions) {
  @Module({
    imports: [bullmqAppModule({ connection: redis.connection, prefix: redis.prefix, queueName, worker: false }, tasks)],
    providers: [RequestSpan],
  })
  class TracedWebModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(RequestSpan).forRoutes('*');
    }
  }
  const app = await NestFactory.create(TracedWebModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port };
}

describeWithRedis('BullMQ: the trace context travels in the job', (redis) => {
  const workers = new WorkerProcesses();
  let dir: string;
  let web: INestApplication | undefined;

  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'bt-bullmq-tracing-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeEach(() => sdk.exporter.reset());
  afterEach(async () => {
    await workers.stopAll();
    await web?.close();
    web = undefined;
  });

  /** Signs `user` up through a web process with `tasks`, runs the job on a worker process with `tracing`; returns its span. */
  async function signUp(user: string, tasks: BackgroundTasksModuleOptions, tracing: BackgroundTasksModuleOptions['tracing']) {
    const queueName = uniqueQueue();
    const spans = join(dir, `${queueName}.spans`);
    const started = await startWeb(redis(), queueName, tasks);
    web = started.app;
    const { connection, prefix } = redis();
    await workers.start({ connection, prefix, queueName, journal: join(dir, `${queueName}.log`), tracing, spans });
    expect(await post(started.port, `/signup/${user}`)).toEqual({ status: 201, body: '{"ok":true}' });
    const [job] = await waitFor('the worker to end the span of the job', async () => {
      const ended = (await workerSpans(spans)).filter(({ name }) => name === 'background-task Mailer.sendWelcome');
      return ended.length > 0 && ended;
    });
    const data = await inspectQueue(
      redis(),
      queueName,
      async (queue) => (await queue.getJob(String(job.attributes['messaging.message.id'])))?.data,
    );
    return { job, data, queueName };
  }

  /** The span of the test's one request, in this (the web) process. */
  function requestSpan() {
    const requests = sdk.spans().filter(({ kind }) => kind === SpanKind.SERVER);
    expect(requests).toHaveLength(1);
    const { traceId, spanId } = requests[0].spanContext();
    return { traceId, spanId };
  }

  it("links the worker's span to the span of the request that added the task, by default", async () => {
    const { job, data, queueName } = await signUp('ada', { tracing: true }, true);
    const request = requestSpan();

    expect(data).toEqual({ args: ['ada'], trace: { traceparent: `00-${request.traceId}-${request.spanId}-01` } });
    expect(job).toEqual<WorkerSpan>({
      name: 'background-task Mailer.sendWelcome',
      kind: SpanKind.CONSUMER,
      traceId: expect.any(String),
      spanId: expect.any(String),
      links: [request],
      attributes: {
        'background_task.name': 'Mailer.sendWelcome',
        'background_task.transport': 'job',
        'background_task.wait_time': expect.any(Number),
        'background_task.attempt': 1,
        'background_task.outcome': 'succeeded',
        'messaging.system': 'bullmq',
        'messaging.destination.name': queueName,
        'messaging.message.id': expect.any(String),
        'messaging.operation.type': 'process',
      },
      status: 0,
      events: [],
    });
    expect(job.traceId).not.toBe(request.traceId);
    // The web process made no span for the task: it ran nowhere there.
    expect(sdk.taskSpans('Mailer.sendWelcome')).toEqual([]);
  });

  it("makes the worker's span a child of the request's span, in its trace, with parent: 'child' on the worker", async () => {
    const { job } = await signUp('grace', { tracing: true }, { parent: 'child' });
    const request = requestSpan();

    expect(job.parent).toEqual(request);
    expect(job.traceId).toBe(request.traceId);
    expect(job.links).toEqual([]);
  });

  it('runs a job that carries no trace context (tracing off on the web side) in a span of its own', async () => {
    const { job, data } = await signUp('alan', {}, true);

    expect(data).toEqual({ args: ['alan'] });
    expect(job.parent).toBeUndefined();
    expect(job.links).toEqual([]);
    expect(job.status).toBe(0);
    expect(job.attributes['background_task.outcome']).toBe('succeeded');
  });
});
