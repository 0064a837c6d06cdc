import { Module } from '@nestjs/common';
import { BackgroundTasksModule } from 'nestjs-background-tasks';
import { HealthModule } from './health/health.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { SubscriptionsModule } from './subscriptions/subscriptions.module.js';

@Module({
  imports: [
    // Once, in the root module: BackgroundTasks is then injectable everywhere.
    // A plain import takes the defaults; these are what a production app sets.
    BackgroundTasksModule.forRoot({ concurrency: 10, maxQueued: 1000, taskTimeout: 30_000 }),
    NotificationsModule,
    SubscriptionsModule,
    ReportsModule,
    HealthModule,
  ],
})
export class AppModule {}
