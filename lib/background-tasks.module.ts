import {
  Global,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, HttpAdapterHost, MetadataScanner } from '@nestjs/core';
import {
  BACKGROUND_TASKS_MODE,
  BACKGROUND_TASKS_MODULE_OPTIONS,
  ConfigurableModuleClass,
} from './background-tasks.module-definition.js';
import { AppBackgroundTasks } from './core/app-background-tasks.js';
import { BackgroundTasksMonitor } from './core/background-tasks-monitor.js';
import { BackgroundTasks } from './core/background-tasks.js';
import { TaskRunner } from './core/task-runner.js';
import { groupGraphQLFields } from './graphql/graphql-schema.js';
import { registerRunner } from './http/http-runner.js';
import { linkRawResponse } from './http/node-request.js';
import { backgroundTasksInterceptorProvider } from './interceptor/background-tasks-interceptor.provider.js';
import { messageServersProvider } from './providers/message-servers.provider.js';
import { discoverHandlers } from './providers/task-handlers.discovery.js';
import { followTransactions } from './providers/transaction-holder.js';
import { PLAIN_IMPORT_OPTIONS, taskRunnerProvider } from './providers/task-runner.provider.js';
import { backgroundTasksProvider } from './request-scope/background-tasks.provider.js';
import { assertNoDurableDependents } from './request-scope/durable-dependents.js';

/**
 * Makes {@link BackgroundTasks} injectable everywhere and runs each
 * request's tasks after its response. Configure it once, in the root module,
 * through `forRoot()` / `forRootAsync()`, or import it plainly for the
 * defaults. An app has one runner: a plain import elsewhere uses the
 * configured one, and two configured imports must agree.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    // The defaults of a plain import, which tests can override by this token; forRoot() replaces it.
    { provide: BACKGROUND_TASKS_MODULE_OPTIONS, useValue: PLAIN_IMPORT_OPTIONS },
    // null: the options decide the mode; tests override it alone.
    { provide: BACKGROUND_TASKS_MODE, useValue: null },
    taskRunnerProvider,
    BackgroundTasksMonitor,
    AppBackgroundTasks,
    backgroundTasksProvider,
    backgroundTasksInterceptorProvider,
    messageServersProvider,
  ],
  // TaskRunner too, for integrations such as the terminus health indicator.
  exports: [BackgroundTasks, AppBackgroundTasks, BackgroundTasksMonitor, TaskRunner],
})
export class BackgroundTasksModule extends ConfigurableModuleClass implements NestModule, OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly runner: TaskRunner,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    assertNoDurableDependents(this.discovery);
    // @Background() reaches the runner through the request, at no cost to routes that do not use it.
    const instance = this.adapterHost.httpAdapter?.getInstance<object | undefined>();
    if (instance) registerRunner(instance, this.runner);
    // Every import of the module shares the runner: its handlers are found once, its transactions followed once.
    if (discovered.has(this.runner)) return;
    discovered.add(this.runner);
    discoverHandlers(this.discovery, this.scanner, this.runner.handlers);
    // Only with the option: an app without it loads nothing of nestjs-cls.
    if (this.runner.options.transactions) {
      await followTransactions(this.runner, () =>
        this.discovery.getProviders().map((wrapper): unknown => wrapper.instance as unknown),
      );
    }
  }

  /** GraphQL modules build their schemas in their `onModuleInit`; each field's outcome is set up in them. */
  onApplicationBootstrap(): Promise<void> {
    return groupGraphQLFields(this.discovery, this.scanner);
  }

  configure(consumer: MiddlewareConsumer): void {
    // A Fastify request does not lead to its reply, which tasks added by guards must watch. Once per app.
    if (this.adapterHost.httpAdapter?.getType() !== 'fastify' || linked.has(this.runner)) return;
    linked.add(this.runner);
    consumer.apply(linkRawResponse).forRoutes('*');
  }
}

/** The runners whose app's handlers are registered. */
const discovered = new WeakSet<TaskRunner>();

/** The runners whose app links Fastify's raw requests to their responses already. */
const linked = new WeakSet<TaskRunner>();
