import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BackgroundTasksHealthIndicator } from 'nestjs-background-tasks/terminus';
import { HealthController } from './health.controller.js';

/** GET /health, with @nestjs/terminus and the module's health indicator. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [BackgroundTasksHealthIndicator],
})
export class HealthModule {}
