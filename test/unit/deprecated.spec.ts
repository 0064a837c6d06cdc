import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BackgroundTask,
  BackgroundTaskHandler,
  BackgroundTaskRunner,
  BackgroundTasksModule,
  BackgroundTasksMonitor,
  BackgroundTasksOverflowException,
  BackgroundTasksQueueFullException,
} from '../../lib/index.js';
import { BackgroundTask as BullMQBackgroundTask } from '../../lib/bullmq/index.js';

describe('the deprecated names of 1.0', () => {
  it('are the very same decorator and classes as their new names', () => {
    expect(BackgroundTask).toBe(BackgroundTaskHandler);
    expect(BullMQBackgroundTask).toBe(BackgroundTaskHandler);
    expect(BackgroundTaskRunner).toBe(BackgroundTasksMonitor);
    expect(new BackgroundTasksOverflowException('t', 1)).toBeInstanceOf(BackgroundTasksQueueFullException);
  });

  it('inject the monitor by the old name', async () => {
    @Injectable()
    class Health {
      constructor(readonly runner: BackgroundTaskRunner) {}
    }
    @Module({ imports: [BackgroundTasksModule], providers: [Health] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    expect(moduleRef.get(Health).runner).toBe(moduleRef.get(BackgroundTasksMonitor));
    await moduleRef.close();
  });
});
