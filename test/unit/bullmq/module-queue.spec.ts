import { jest } from '@jest/globals';
import { Queue } from 'bullmq';
import { ModuleQueue } from '../../../lib/bullmq/module-queue.js';

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
