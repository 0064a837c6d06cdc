import { Global, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { BACKGROUND_TASKS_MODULE_OPTIONS, ConfigurableModuleClass } from './background-tasks.module-definition.js';
import { backgroundTasksProvider } from './background-tasks.provider.js';
import { BackgroundTasks } from './background-tasks.service.js';
import { BackgroundTasksInterceptor } from './background-tasks.interceptor.js';
import { BackgroundTaskRunner } from './task-runner.js';
import { linkRawResponse } from './transports.js';

/**
 * Makes {@link BackgroundTasks} injectable everywhere and runs each
 * request's tasks after its response. Import it once, in the root module:
 * plainly for the defaults, or through `forRoot()` / `forRootAsync()`.
 */
@Global()
@Module({
  providers: [
    // The defaults of a plain import, which tests can override by this token; forRoot() replaces it.
    { provide: BACKGROUND_TASKS_MODULE_OPTIONS, useValue: {} },
    BackgroundTaskRunner,
    backgroundTasksProvider,
    { provide: APP_INTERCEPTOR, useClass: BackgroundTasksInterceptor },
  ],
  exports: [BackgroundTasks, BackgroundTaskRunner],
})
export class BackgroundTasksModule extends ConfigurableModuleClass implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    // A Fastify request does not lead to its reply, which tasks added by guards must watch.
    if (this.adapterHost.httpAdapter?.getType() === 'fastify') consumer.apply(linkRawResponse).forRoutes('*');
  }
}
