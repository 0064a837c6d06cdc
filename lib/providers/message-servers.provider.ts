import type { FactoryProvider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { isMessageServer, watchAnswers } from '../microservices/message-answers.js';

/** Token of the provider below, which has no value: it only subscribes. */
const MESSAGE_SERVERS = Symbol('nestjs-background-tasks:message-servers');

/**
 * Watches the answers of every microservice server of the app. Nest adds each
 * server to the app's RPC target registry when it creates it, which is after
 * this factory runs and before the server listens; the registry replays them.
 */
export const messageServersProvider: FactoryProvider<void> = {
  provide: MESSAGE_SERVERS,
  inject: [ModulesContainer],
  useFactory: (modules: ModulesContainer) => {
    modules.getRpcTargetRegistry<unknown>().subscribe((target) => {
      if (isMessageServer(target)) watchAnswers(target);
    });
  },
};
