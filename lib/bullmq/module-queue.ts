import { type IQueueBackend, type JobsOptions, Queue } from 'bullmq';
import type { JobData } from './job-data.js';

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
