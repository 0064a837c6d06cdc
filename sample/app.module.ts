import { Module } from '@nestjs/common';
import { BackgroundTasksModule } from 'nestjs-background-tasks';
import { NotificationsModule } from './notifications/notifications.module.js';
import { SubscriptionsModule } from './subscriptions/subscriptions.module.js';

@Module({
  imports: [
    // Once, in the root module: BackgroundTasks is then injectable everywhere.
    // Use BackgroundTasksModule.forRoot({ concurrency, taskTimeout, onTaskFailed, … }) to change the defaults.
    BackgroundTasksModule,
    NotificationsModule,
    SubscriptionsModule,
  ],
})
export class AppModule {}
