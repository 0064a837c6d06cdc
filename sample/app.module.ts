import { Module } from '@nestjs/common';
import { BackgroundTasksModule, type BackgroundTasksModuleOptions } from 'nestjs-background-tasks';
import { HashesModule } from './hashes/hashes.module.js';
import { HealthModule } from './health/health.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { SubscriptionsModule } from './subscriptions/subscriptions.module.js';
import { WelcomeModule } from './welcome/welcome.module.js';

/** A plain import takes the defaults; these are what a production app sets. */
export const TASK_OPTIONS: BackgroundTasksModuleOptions = { concurrency: 10, maxQueued: 1000, taskTimeout: 30_000 };

@Module({
  imports: [
    // Once, in the root module: BackgroundTasks is then injectable everywhere.
    BackgroundTasksModule.forRoot(TASK_OPTIONS),
    NotificationsModule,
    SubscriptionsModule,
    ReportsModule,
    HealthModule,
    WelcomeModule,
    HashesModule,
  ],
})
export class AppModule {}
