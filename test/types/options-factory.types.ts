/**
 * Compile-only type test of the options factories of `forRootAsync({ useClass })`
 * and `({ useExisting })`: checked by `tsc -p tsconfig.json`, never run. A class
 * that implements the interface is what Nest's ConfigurableModuleBuilder asks
 * for, so a renamed factory method on either side fails here. Each
 * `@ts-expect-error` line has exactly one error, for the reason stated above it.
 */
import { Injectable } from '@nestjs/common';
import { BackgroundTasksModule, type BackgroundTasksModuleOptions, type BackgroundTasksOptionsFactory } from '../../lib/index.js';
import {
  BackgroundTasksBullMQModule,
  type BackgroundTasksBullMQOptions,
  type BackgroundTasksBullMQOptionsFactory,
} from '../../lib/bullmq/index.js';

@Injectable()
export class TasksConfig implements BackgroundTasksOptionsFactory {
  createBackgroundTasksOptions(): BackgroundTasksModuleOptions {
    return { concurrency: 5 };
  }
}

@Injectable()
export class AsyncTasksConfig implements BackgroundTasksOptionsFactory {
  async createBackgroundTasksOptions(): Promise<BackgroundTasksModuleOptions> {
    return Promise.resolve({ shutdownTimeout: 1000 });
  }
}

@Injectable()
export class QueueConfig implements BackgroundTasksBullMQOptionsFactory {
  createBackgroundTasksBullMQOptions(): Promise<BackgroundTasksBullMQOptions> {
    return Promise.resolve({ connection: { host: 'localhost', port: 6379 }, worker: false });
  }
}

BackgroundTasksModule.forRootAsync({ useClass: TasksConfig });
BackgroundTasksModule.forRootAsync({ useClass: AsyncTasksConfig });
BackgroundTasksModule.forRootAsync({ useExisting: TasksConfig });
BackgroundTasksBullMQModule.forRootAsync({ useClass: QueueConfig });
BackgroundTasksBullMQModule.forRootAsync({ useExisting: QueueConfig });

// The method's name is the module's: another does not implement the interface.
// @ts-expect-error createOptions is not createBackgroundTasksOptions
export class Misnamed implements BackgroundTasksOptionsFactory {
  createOptions(): BackgroundTasksModuleOptions {
    return {};
  }
}

export class WrongOptions implements BackgroundTasksOptionsFactory {
  // @ts-expect-error what it returns is not the module's options: 'drop' is no overflow policy
  createBackgroundTasksOptions() {
    return { overflow: 'drop' as const };
  }
}

// Each module's factory is its own: the BullMQ one is no factory of the tasks module.
// @ts-expect-error QueueConfig has no createBackgroundTasksOptions
BackgroundTasksModule.forRootAsync({ useClass: QueueConfig });
