import { Injectable } from '@nestjs/common';

@Injectable()
export class ModerationService {
  async scan(text: string): Promise<void> {
    void text;
  }
}
