import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundTasksModule } from '../../lib/index.js';
import { BackgroundTasksBullMQModule, type BackgroundTasksBullMQOptions } from '../../lib/bullmq/index.js';

/** Bad options stop startup before any connection is made: no Redis needed. */
describe('BackgroundTasksBullMQModule options', () => {
  const startWith = async (options: unknown, async = false) => {
    const bullmq = async
      ? BackgroundTasksBullMQModule.forRootAsync({ useFactory: () => options as BackgroundTasksBullMQOptions })
      : BackgroundTasksBullMQModule.forRoot(options as BackgroundTasksBullMQOptions);
    @Module({ imports: [BackgroundTasksModule.forRoot({}), bullmq] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    await app.close();
  };
  const connection = { host: '127.0.0.1', port: 1 };

  it.each([
    [{ connection, queuName: 'x' }, 'BackgroundTasksBullMQModule: unknown option "queuName". Did you mean "queueName"?'],
    [{}, 'BackgroundTasksBullMQModule: no connection. Give forRoot() a connection'],
    [
      { connection, queueName: '' },
      'BackgroundTasksBullMQModule: option "queueName" must be a non-empty string, got a string ("").',
    ],
    [
      { connection, worker: 2 },
      'BackgroundTasksBullMQModule: option "worker" must be true, false (a web-only process) or BullMQ worker options, got number (2).',
    ],
    [
      { connection, enqueueTimeout: 0 },
      'BackgroundTasksBullMQModule: option "enqueueTimeout" must be a positive number of milliseconds',
    ],
    [
      { connection, onEnqueueFailure: 'retry' },
      `BackgroundTasksBullMQModule: option "onEnqueueFailure" must be one of 'run-in-process', 'drop'; got a string ("retry").`,
    ],
    [
      { connection, requireDurable: 'yes' },
      'BackgroundTasksBullMQModule: option "requireDurable" must be a boolean, got a string ("yes").',
    ],
    [
      { connection, defaultJobOptions: [] },
      'BackgroundTasksBullMQModule: option "defaultJobOptions" must be an object, got an array',
    ],
    [
      { connection, backend: 'postgres' },
      'BackgroundTasksBullMQModule: option "backend" must be a function, got a string ("postgres").',
    ],
    [{ connection, prefix: 7 }, 'BackgroundTasksBullMQModule: option "prefix" must be a non-empty string, got number (7).'],
    [
      { connection, unknownHandlerTimeout: -1 },
      'BackgroundTasksBullMQModule: option "unknownHandlerTimeout" must be a non-negative number of milliseconds, at most 2147483647, or Infinity; got number (-1).',
    ],
    [
      { connection, unknownHandlerTimout: 0 },
      'BackgroundTasksBullMQModule: unknown option "unknownHandlerTimout". Did you mean "unknownHandlerTimeout"?',
    ],
  ])('rejects %j at startup', async (options, message) => {
    await expect(startWith(options)).rejects.toThrow(message);
  });

  it('checks the options of forRootAsync() too', async () => {
    await expect(startWith(null, true)).rejects.toThrow('BackgroundTasksBullMQModule: options must be an object, got null.');
  });

  it('needs BackgroundTasksModule in the app, and says so', async () => {
    @Module({ imports: [BackgroundTasksBullMQModule.forRoot({ connection, worker: false })] })
    class AppModule {}
    const starting = NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    await expect(starting.then((app) => app.close())).rejects.toThrow(
      'BackgroundTasksBullMQModule needs BackgroundTasksModule: import BackgroundTasksModule.forRoot() (or BackgroundTasksModule) in the root module, beside it.',
    );
  });
});
