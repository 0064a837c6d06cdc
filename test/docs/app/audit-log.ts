import { Injectable } from '@nestjs/common';

@Injectable()
export class AuditLog {
  async login(email: string, ok: boolean): Promise<void> {
    void email;
    void ok;
  }
}
