import { BadRequestException, Injectable } from '@nestjs/common';
import { BackgroundTasks } from 'nestjs-background-tasks';
import { writeLog } from '../log.js';

/** A service adds tasks the same way: BackgroundTasks in its constructor. */
@Injectable()
export class SubscriptionsService {
  constructor(private readonly tasks: BackgroundTasks) {}

  subscribe(email: string): void {
    // A request that fails drops its tasks, except `always` ones: the guard's audit line.
    if (!email.includes('@')) {
      throw new BadRequestException(`Not an email address: ${email}`);
    }
    this.tasks.addTask(writeLog, `subscribed ${email}`);
  }
}
