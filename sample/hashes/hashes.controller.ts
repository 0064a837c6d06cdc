import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { Background, BackgroundTasks } from 'nestjs-background-tasks';
import { hashText } from './hash.task.js';

/** Rounds of the hash: some hundreds of milliseconds of CPU. */
const ROUNDS = 2_000_000;

@Controller('hashes')
export class HashesController {
  @Post(':text')
  @HttpCode(202)
  hash(@Param('text') text: string, @Background() tasks: BackgroundTasks) {
    // Type-checked like any task: hashText takes (text: string, rounds: number).
    tasks.addTask(hashText, text, ROUNDS);
    return { message: 'Hashing in a worker thread' };
  }
}
