import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BackgroundTasksModuleOptions } from './interfaces/background-tasks-module-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: BACKGROUND_TASKS_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<BackgroundTasksModuleOptions>({ moduleName: 'BackgroundTasks' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createBackgroundTasksOptions')
    .build();

/**
 * Overrides the `mode` option, and only it: for tests, which keep the app's
 * other options (its hooks, say) this way.
 *
 * @example
 * ```ts
 * Test.createTestingModule({ imports: [AppModule] })
 *   .overrideProvider(BACKGROUND_TASKS_MODE)
 *   .useValue('inline');
 * ```
 */
export const BACKGROUND_TASKS_MODE = Symbol('BACKGROUND_TASKS_MODE');
