import { Controller, Param, Post, UseGuards } from '@nestjs/common';
import { AuditGuard } from './audit.guard.js';
import { SubscriptionsService } from './subscriptions.service.js';

/**
 * Beyond FastAPI: a guard and a service add tasks to the same request.
 * They run in the order added: the guard's first, as guards run first.
 */
@Controller()
@UseGuards(AuditGuard)
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post('subscribe/:email')
  subscribe(@Param('email') email: string) {
    this.subscriptions.subscribe(email);
    return { message: 'Subscribed' };
  }
}
