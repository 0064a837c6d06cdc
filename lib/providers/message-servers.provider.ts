import type { FactoryProvider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { isMessageServer, onEachRpcTarget } from '../internals/nest-internals.js';
import { watchAnswers } from '../microservices/message-answers.js';

/** Token of the provider below, which has no value: it only subscribes. */
const MESSAGE_SERVERS = Symbol('nestjs-background-tasks:message-servers');

/** Watches the answers of every microservice server of the app, from before it listens. */
export const messageServersProvider: FactoryProvider<void> = {
  provide: MESSAGE_SERVERS,
  inject: [ModulesContainer],
  useFactory: (modules: ModulesContainer) => {
    onEachRpcTarget(modules, (target) => {
      if (isMessageServer(target)) watchAnswers(target);
    });
  },
};
