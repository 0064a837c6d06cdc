import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSampleApp } from './create-app.js';
import { logFile } from './log.js';

async function bootstrap() {
  // Express by default; `ADAPTER=fastify npm start` serves the same app on Fastify.
  // With REDIS_URL, POST /welcome enqueues a BullMQ job that `npm run start:worker` runs.
  const redisUrl = process.env.REDIS_URL;
  const app = await createSampleApp(process.env.ADAPTER, undefined, redisUrl);
  // On Ctrl+C, lets the tasks still running finish (up to `shutdownTimeout`) before exiting.
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);

  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  const url = `http://localhost:${port}`;
  console.log(`
Serving on ${app.getHttpAdapter().getType()}. Try it (each request returns at once; its tasks then write to the log file):
  curl -X POST ${url}/send-notification/alice@example.com
  curl -X POST '${url}/send-message/bob@example.com?q=hello'
  curl -X POST ${url}/subscribe/carol@example.com
  curl -X POST ${url}/subscribe/nope      (fails with a 400; the guard's audit task runs anyway)
  curl -X POST ${url}/reports             (an event listener adds an app task, outside the request)
  curl -X POST ${url}/hashes/hello        (CPU work in a thread task: the app keeps answering meanwhile)
  curl ${url}/health                      (the tasks' health, with @nestjs/terminus)
  curl -X POST ${url}/welcome/dave@example.com   (a durable task: ${
    redisUrl === undefined ? 'no REDIS_URL, so it runs in this process' : `a BullMQ job on ${redisUrl}, for the worker`
  })
  cat ${logFile()}
${
  redisUrl === undefined
    ? 'To run it as a job: REDIS_URL=redis://localhost:6379 npm start, and in another terminal the same with npm run start:worker.'
    : `Start the worker in another terminal: REDIS_URL=${redisUrl} npm run start:worker; the log names the process that sent each welcome email.`
}
Stop it with Ctrl+C: the tasks still running finish first.
`);
}
void bootstrap();
