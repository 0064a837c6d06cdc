import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BackgroundTasksModuleOptions } from './interfaces/background-tasks-module-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: BACKGROUND_TASKS_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<BackgroundTasksModuleOptions>({ moduleName: 'BackgroundTasks' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createBackgroundTasksOptions')
    .build();
