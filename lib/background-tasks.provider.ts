import { type FactoryProvider, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { BackgroundTasks } from './background-tasks.service.js';
import { getRequestTasks } from './request-tasks.js';
import { BackgroundTaskRunner } from './task-runner.js';

/** Makes `BackgroundTasks` injectable: one instance per request. */
export const backgroundTasksProvider: FactoryProvider<BackgroundTasks> = {
  provide: BackgroundTasks,
  scope: Scope.REQUEST,
  inject: [REQUEST, BackgroundTaskRunner],
  useFactory: getRequestTasks,
};
