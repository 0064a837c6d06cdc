import { CONNECTION_SCOPED } from '../background-tasks.messages.js';
import { BackgroundTasks } from '../core/background-tasks.js';

/**
 * What a WebSocket gateway (or a provider it uses) gets when it injects
 * BackgroundTasks. Nest scopes REQUEST per connection there, so one object
 * would mix the tasks of every message. Failing in the factory would crash
 * the process, as Nest resolves the gateway outside any handler when a client
 * connects; so the gateway is built, and each use explains instead.
 */
export class ConnectionScopedBackgroundTasks extends BackgroundTasks {
  get concurrent(): boolean {
    throw new Error(CONNECTION_SCOPED);
  }

  set concurrent(_concurrent: boolean) {
    throw new Error(CONNECTION_SCOPED);
  }

  addTask(): never {
    throw new Error(CONNECTION_SCOPED);
  }

  addTaskWithOptions(): never {
    throw new Error(CONNECTION_SCOPED);
  }

  cancel(): never {
    throw new Error(CONNECTION_SCOPED);
  }
}
