import { Injectable } from '@nestjs/common';
import type { User } from './users.service.js';

@Injectable()
export class Mailer {
  async sendWelcome(to: string): Promise<void> {
    void to;
  }

  async welcome(user: User): Promise<void> {
    void user;
  }

  async orderConfirmation(orderId: string): Promise<void> {
    void orderId;
  }
}
