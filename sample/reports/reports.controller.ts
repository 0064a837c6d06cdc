import { Controller, HttpCode, Post } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';

@Controller('reports')
export class ReportsController {
  constructor(private readonly events: EventEmitter2) {}

  @Post()
  @HttpCode(202)
  request() {
    this.events.emit('report.requested', new Date().toISOString());
    return { message: 'Report requested' };
  }
}
