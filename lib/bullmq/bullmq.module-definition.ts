import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BackgroundTasksBullMQOptions } from './bullmq-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: BACKGROUND_TASKS_BULLMQ_OPTIONS } =
  new ConfigurableModuleBuilder<BackgroundTasksBullMQOptions>({ moduleName: 'BackgroundTasksBullMQ' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createBackgroundTasksBullMQOptions')
    .build();
