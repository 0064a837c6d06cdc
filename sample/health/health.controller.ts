import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BackgroundTasksHealthIndicator } from 'nestjs-background-tasks/terminus';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly backgroundTasks: BackgroundTasksHealthIndicator,
  ) {}

  /** Down (503) when the queue is over 90% of maxQueued, or its oldest task has waited a minute. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.backgroundTasks.isHealthy('backgroundTasks', { maxQueueWait: 60_000 })]);
  }
}
