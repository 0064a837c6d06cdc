import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ReportListener } from './report.listener.js';
import { ReportsController } from './reports.controller.js';

/** A task added by an event listener, outside any request. */
@Module({
  imports: [EventEmitterModule.forRoot()],
  controllers: [ReportsController],
  providers: [ReportListener],
})
export class ReportsModule {}
