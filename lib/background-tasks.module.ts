import { Global, type MiddlewareConsumer, Module, type NestModule, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import { BACKGROUND_TASKS_MODULE_OPTIONS, ConfigurableModuleClass } from './background-tasks.module-definition.js';
import { BackgroundTaskRunner } from './core/background-task-runner.js';
import { BackgroundTasks } from './core/background-tasks.js';
import { TaskRunner } from './core/task-runner.js';
import { registerRunner } from './http/http-runner.js';
import { linkRawResponse } from './http/node-request.js';
import type { BackgroundTasksModuleOptions } from './interfaces/background-tasks-module-options.interface.js';
import { backgroundTasksInterceptorProvider } from './interceptor/background-tasks-interceptor.provider.js';
import { backgroundTasksProvider } from './request-scope/background-tasks.provider.js';

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
    {
      provide: TaskRunner,
      inject: [BACKGROUND_TASKS_MODULE_OPTIONS],
      useFactory: (options: BackgroundTasksModuleOptions) => new TaskRunner(options),
    },
    BackgroundTaskRunner,
    backgroundTasksProvider,
    backgroundTasksInterceptorProvider,
  ],
  exports: [BackgroundTasks, BackgroundTaskRunner],
})
export class BackgroundTasksModule extends ConfigurableModuleClass implements NestModule, OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly runner: TaskRunner,
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
