import { jest } from '@jest/globals';
import { Queue } from 'bullmq';
import { getSharedConfigToken } from '@nestjs/bullmq';
import { BULL_SHARED_CONFIG, ModuleQueue } from '../../../lib/bullmq/bullmq-internals.js';

describe("BullMQ's internals", () => {
  it('Queue has the protected addJob() that add() wraps in its telemetry, which ModuleQueue calls', () => {
    expect(typeof (Queue.prototype as unknown as { addJob?: unknown }).addJob).toBe('function');
    expect(Queue.prototype.add.toString()).toContain('addJob');
  });

  it("reads BullModule.forRoot()'s configuration under @nestjs/bullmq's token", () => {
    expect(BULL_SHARED_CONFIG).toBe(getSharedConfigToken());
  });
});

describe('ModuleQueue', () => {
  it("adds through BullMQ's addJob(), not through add()'s telemetry wrapper", async () => {
    const job = { id: '7' };
    // No connection: only the delegation is under test; real adds are in test/bullmq.
    const queue = Object.create(ModuleQueue.prototype) as ModuleQueue;
    const addJob = jest.fn(() => Promise.resolve(job));
    Object.defineProperty(queue, 'addJob', { value: addJob });
    const add = jest.spyOn(Queue.prototype, 'add');
    const options = { attempts: 3 };

    await expect(queue.addUntraced('Mailer.send', { args: ['ada'] }, options)).resolves.toBe(job);
    expect(addJob).toHaveBeenCalledWith('Mailer.send', { args: ['ada'] }, options);
    expect(add).not.toHaveBeenCalled();
    expect(queue).toBeInstanceOf(Queue);
  });
});
