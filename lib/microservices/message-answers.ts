import { isObservable } from 'rxjs';
import { type MessageHandler, type MessageServer, wrapHandlersOnListen } from '../internals/nest-internals.js';
import { watchOutcome } from '../utils/watch-outcome.js';
import { peekMessageTasks } from './message-tasks.js';

/**
 * Makes the server's answers release the tasks that the interceptor never
 * saw: those of a message that a guard rejected, or of a server that Nest
 * applies no global interceptor to. Its handlers are wrapped when it starts
 * listening: each calls the handler, then looks at its message's context;
 * only a message that has tasks by then is watched.
 */
export function watchAnswers(server: MessageServer): void {
  wrapHandlersOnListen(
    server,
    (handler): MessageHandler =>
      (payload, messageContext, ...rest) =>
        handler(payload, messageContext, ...rest).then((answer) => releasedBy(answer, messageContext)),
  );
}

/**
 * Releases the message's tasks one macrotask after its answer was handed to
 * the transport, as failed if the answer is an error. Tasks that the
 * interceptor watched are released by it first, with the handler's outcome.
 * A transport that stops listening before the answer ends (gRPC, for a
 * cancelled call) does not strand them: see {@link watchOutcome}. Staying
 * subscribed then also keeps alive the interceptor's watch inside the answer.
 */
function releasedBy(answer: unknown, messageContext: unknown): unknown {
  const tasks = typeof messageContext === 'object' && messageContext !== null ? peekMessageTasks(messageContext) : undefined;
  if (!tasks) return answer;
  const release = (succeeded: boolean) => void setImmediate(() => tasks.settle(succeeded));
  if (!isObservable(answer)) {
    release(true);
    return answer;
  }
  return watchOutcome(answer, release);
}
