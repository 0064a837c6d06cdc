import { Global, type MiddlewareConsumer, Module, type NestModule, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import { backgroundTasksInterceptorProvider } from './background-tasks-interceptor.provider.js';
import { BACKGROUND_TASKS_MODULE_OPTIONS, ConfigurableModuleClass } from './background-tasks.module-definition.js';
import { backgroundTasksProvider } from './background-tasks.provider.js';
import { BackgroundTasks } from './background-tasks.service.js';
import { BackgroundTaskRunner } from './task-runner.js';
import { linkRawResponse, registerRunner } from './transports.js';

/**
 * Makes {@link BackgroundTasks} injectable everywhere and runs each
 * request's tasks after its response. Import it once, in the root module:
 * plainly for the defaults, or through `forRoot()` / `forRootAsync()`.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    // The defaults of a plain import, which tests can override by this token; forRoot() replaces it.
    { provide: BACKGROUND_TASKS_MODULE_OPTIONS, useValue: {} },
    BackgroundTaskRunner,
    backgroundTasksProvider,
    backgroundTasksInterceptorProvider,
  ],
  exports: [BackgroundTasks, BackgroundTaskRunner],
})
export class BackgroundTasksModule extends ConfigurableModuleClass implements NestModule, OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly runner: BackgroundTaskRunner,
  ) {
    super();
  }

  onModuleInit(): void {
    // @Background() reaches the runner through the request, at no cost to routes that do not use it.
    const instance = this.adapterHost.httpAdapter?.getInstance<object | undefined>();
    if (instance) registerRunner(instance, this.runner);
  }

  configure(consumer: MiddlewareConsumer): void {
    // A Fastify request does not lead to its reply, which tasks added by guards must watch.
    if (this.adapterHost.httpAdapter?.getType() === 'fastify') consumer.apply(linkRawResponse).forRoutes('*');
  }
}
