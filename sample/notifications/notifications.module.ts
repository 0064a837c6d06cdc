import { Module } from '@nestjs/common';
import { MessagesController } from './messages.controller.js';
import { NotificationsController } from './notifications.controller.js';

/** FastAPI's two BackgroundTasks examples. */
@Module({
  controllers: [NotificationsController, MessagesController],
})
export class NotificationsModule {}
