import { Module } from '@nestjs/common';
import { BackgroundTasksModule } from 'nestjs-background-tasks';
import { Mailer } from './mailer.js';

/** The app's root module. */
@Module({
  imports: [BackgroundTasksModule],
  providers: [Mailer],
})
export class AppModule {}
