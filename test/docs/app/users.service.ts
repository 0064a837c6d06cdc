import { Injectable } from '@nestjs/common';

export interface User {
  readonly email: string;
  readonly unsubscribed: boolean;
}

@Injectable()
export class UsersService {
  async checkPassword(email: string, password: string): Promise<boolean> {
    return email !== '' && password !== '';
  }

  async create(email: string): Promise<User> {
    return { email, unsubscribed: false };
  }
}
