import { type IQueueBackend, type JobsOptions, Queue } from 'bullmq';
import type { JobData } from './job-data.js';

/*
 * What the BullMQ backend relies on of bullmq and @nestjs/bullmq beyond their
 * documented API, in one place: test/unit/bullmq/bullmq-internals.spec.ts pins
 * each against the real packages.
 */

/**
 * The token of `BullModule.forRoot()`'s shared configuration in
 * `@nestjs/bullmq` (its `getSharedConfigToken()`), read without importing it.
 */
export const BULL_SHARED_CONFIG = 'BULLMQ_CONFIG(default)';

/**
 * The module's BullMQ queue. Its dispatcher adds jobs through `addJob()`,
 * BullMQ's telemetry-free `add()` for subclasses: `add()` wraps it in two
 * more async layers for BullMQ's own tracing, which this queue never has
 * (the module's `tracing` carries the trace context in the job), and every
 * durable task pays for them.
 */
export class ModuleQueue extends Queue<JobData, void, string, JobData, void, string, IQueueBackend> {
  addUntraced(name: string, data: JobData, options: JobsOptions): Promise<unknown> {
    return this.addJob(name, data, options);
  }
}
