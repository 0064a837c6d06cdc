import { Controller, Param, Post, Query } from '@nestjs/common';
import { BackgroundTasks } from 'nestjs-background-tasks';
import { writeLog } from '../log.js';
import { QueryPipe } from './query.pipe.js';

/**
 * FastAPI's second example, where a dependency adds a task too:
 *
 *     @app.post("/send-notification/{email}")
 *     async def send_notification(
 *         email: str, background_tasks: BackgroundTasks, q: Annotated[str, Depends(get_query)]
 *     ):
 *         message = f"message to {email}\n"
 *         background_tasks.add_task(write_log, message)
 *         return {"message": "Message sent"}
 *
 * It gets its own route here, as the first example has the FastAPI path.
 * `Depends(get_query)` becomes `@Query('q', QueryPipe)`. Pipes run before the
 * handler, so "found query" is logged before "message to".
 */
@Controller()
export class MessagesController {
  // Constructor injection: this controller is request-scoped, like QueryPipe.
  constructor(private readonly tasks: BackgroundTasks) {}

  @Post('send-message/:email')
  sendMessage(@Param('email') email: string, @Query('q', QueryPipe) _query?: string) {
    this.tasks.addTask(writeLog, `message to ${email}`);
    return { message: 'Message sent' };
  }
}
