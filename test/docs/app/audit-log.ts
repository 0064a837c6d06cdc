import { Injectable } from '@nestjs/common';

@Injectable()
export class AuditLog {
  async login(email: string, ok: boolean): Promise<void> {
    void email;
    void ok;
  }

  async message(handler: string, allowed: boolean): Promise<void> {
    void handler;
    void allowed;
  }
}
