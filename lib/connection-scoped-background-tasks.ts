import { BackgroundTasks } from './background-tasks.service.js';
import type { BackgroundTaskRunner } from './task-runner.js';

/**
 * What a WebSocket gateway (or a provider it uses) gets when it injects
 * BackgroundTasks. Nest scopes REQUEST per connection there, so one object
 * would mix the tasks of every message. Failing in the factory would crash
 * the process, as Nest resolves the gateway outside any handler when a client
 * connects; so the gateway is built, and each use explains instead.
 */
export class ConnectionScopedBackgroundTasks extends BackgroundTasks {
  constructor(runner: BackgroundTaskRunner, connection: object) {
    super(runner, connection, { transport: 'ws', method: 'WS', path: '' });
  }

  override addTask(): never {
    throw connectionScoped();
  }

  override addTaskWithOptions(): never {
    throw connectionScoped();
  }

  override cancel(): never {
    throw connectionScoped();
  }
}

function connectionScoped(): Error {
  return new Error(
    'BackgroundTasks cannot be injected here: Nest creates request-scoped providers once per WebSocket connection, ' +
      'not per message. Take @Background() as a parameter of the @SubscribeMessage() handler instead.',
  );
}
