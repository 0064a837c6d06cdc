/**
 * Compile-only: the README's transport examples, as written there (with the
 * services they call declared). Checked by `tsc -p tsconfig.json`, never run.
 */
import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, type MicroserviceOptions, Payload, Transport } from '@nestjs/microservices';
import type { INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Background, BackgroundTasks } from '../../lib/index.js';

interface OrderDto {
  id: string;
}
interface ShippedEvent {
  orderId: string;
}
declare const mailer: { orderConfirmation(id: string): Promise<void> };
declare const search: { reindex(id: string): Promise<void> };
declare const moderation: { scan(body: string): Promise<void> };
declare const app: INestApplication;

@Controller()
export class OrdersController {
  private readonly mailer = mailer;
  private readonly search = search;

  @MessagePattern('orders.create')
  create(@Payload() order: OrderDto, @Background() tasks: BackgroundTasks) {
    tasks.addTask((id: string) => this.mailer.orderConfirmation(id), order.id);
    return { id: order.id };
  }

  // EventPattern's typed overload wants every parameter after the payload to accept `unknown`.
  @EventPattern<string>('orders.shipped')
  shipped(@Payload() event: ShippedEvent, @Background() tasks: BackgroundTasks) {
    tasks.addTask((id: string) => this.search.reindex(id), event.orderId);
  }
}

app.connectMicroservice<MicroserviceOptions>({ transport: Transport.TCP }, { inheritAppConfig: true });

@WebSocketGateway()
export class ChatGateway {
  private readonly moderation = moderation;

  @SubscribeMessage('message')
  onMessage(@MessageBody() text: string, @Background() tasks: BackgroundTasks) {
    tasks.addTask((body: string) => this.moderation.scan(body), text);
    return { event: 'message', data: text };
  }
}
