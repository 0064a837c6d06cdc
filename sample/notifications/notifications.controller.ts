import { Controller, Param, Post } from '@nestjs/common';
import { Background, BackgroundTasks } from 'nestjs-background-tasks';
import { writeNotification } from '../log.js';

/**
 * FastAPI's first example:
 *
 *     @app.post("/send-notification/{email}")
 *     async def send_notification(email: str, background_tasks: BackgroundTasks):
 *         background_tasks.add_task(write_notification, email, message="some notification")
 *         return {"message": "Notification sent in the background"}
 *
 * `@Background()` is FastAPI's parameter style. Nothing here is injected, so
 * the controller stays a singleton: the cheapest way to add tasks.
 */
@Controller()
export class NotificationsController {
  @Post('send-notification/:email')
  sendNotification(@Param('email') email: string, @Background() tasks: BackgroundTasks) {
    // Type-checked: writeNotification takes (email: string, message?: string).
    tasks.addTask(writeNotification, email, 'some notification');
    return { message: 'Notification sent in the background' };
  }
}
