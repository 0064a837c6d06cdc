import { NestFactory } from '@nestjs/core';
import { BackgroundTasksModule } from 'nestjs-background-tasks';
import { TASK_OPTIONS } from './app.module.js';
import { logFile } from './log.js';
import { queueImports } from './welcome/queue.js';
import { WelcomeModule } from './welcome/welcome.module.js';

// `npm run start:worker`: the sample's worker process, with no HTTP server.
// It runs the BullMQ jobs that `npm start` enqueues, when both have REDIS_URL.
async function bootstrap() {
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl === undefined) {
    console.error('The worker needs Redis: REDIS_URL=redis://localhost:6379 npm run start:worker');
    process.exitCode = 1;
    return;
  }
  // The welcome task's module, with the runner and the queue: a dynamic module, as in create-app.ts.
  const app = await NestFactory.createApplicationContext({
    module: WelcomeModule,
    imports: [BackgroundTasksModule.forRoot(TASK_OPTIONS), ...queueImports(redisUrl, true)],
  });
  app.enableShutdownHooks();
  console.log(`Worker ${process.pid} is running the jobs of ${redisUrl}; they write to ${logFile()}. Ctrl+C stops it.`);
}
void bootstrap();
