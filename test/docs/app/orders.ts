import { Injectable } from '@nestjs/common';

/** Stub of the orders service of docs/graphql.md. */
@Injectable()
export class Orders {
  async place(id: string): Promise<void> {
    void id;
  }

  async sendReceipt(id: string): Promise<void> {
    void id;
  }

  async audit(id: string): Promise<void> {
    void id;
  }
}
