import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { Background, BackgroundTasks } from 'nestjs-background-tasks';
import { WelcomeMailer } from './welcome.mailer.js';

/** The same addTask() call, whether the task runs here or on a worker: the configuration decides. */
@Controller()
export class WelcomeController {
  constructor(private readonly mailer: WelcomeMailer) {}

  @Post('welcome/:email')
  @HttpCode(202)
  welcome(@Param('email') email: string, @Background() tasks: BackgroundTasks) {
    // A @BackgroundTaskHandler() method runs on its provider: the rule's warning does not apply.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    tasks.addTask(this.mailer.sendWelcome, email);
    return { message: 'Welcome email on its way' };
  }
}
