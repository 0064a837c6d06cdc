import { Module } from '@nestjs/common';
import { WelcomeController } from './welcome.controller.js';
import { WelcomeMailer } from './welcome.mailer.js';

/** A durable task, which the web process and the worker process both know. */
@Module({
  controllers: [WelcomeController],
  providers: [WelcomeMailer],
})
export class WelcomeModule {}
