import { Test } from '@nestjs/testing';
import { BackgroundTasksQueue } from '../../../lib/bullmq/index.js';
import { NO_BULLMQ_MODULE } from '../../../lib/background-tasks.messages.js';
import { BackgroundTasksModule } from '../../../lib/index.js';

describe('BackgroundTasksQueue', () => {
  it('without BackgroundTasksBullMQModule, listed as a provider of its own, is an error that says to import the module', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BackgroundTasksModule.forRoot({})],
      providers: [BackgroundTasksQueue],
    }).compile();
    const jobs = moduleRef.get(BackgroundTasksQueue);
    expect(() => jobs.cancelJob('1')).toThrow(NO_BULLMQ_MODULE);
    expect(() => jobs.queue).toThrow(NO_BULLMQ_MODULE);
    expect(() => jobs.worker).toThrow(NO_BULLMQ_MODULE);
    expect(NO_BULLMQ_MODULE).toMatch(/Import BackgroundTasksBullMQModule\.forRoot\(\)/);
    await moduleRef.close();
  });
});
