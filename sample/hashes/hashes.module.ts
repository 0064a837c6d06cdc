import { Module } from '@nestjs/common';
import { HashesController } from './hashes.controller.js';

/** A thread task: CPU work off the event loop. */
@Module({ controllers: [HashesController] })
export class HashesModule {}
