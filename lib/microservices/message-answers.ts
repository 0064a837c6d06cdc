import { isObservable } from 'rxjs';
import { peekMessageTasks } from './message-tasks.js';
import { watchOutcome } from '../utils/watch-outcome.js';

/**
 * What the module needs of a `@nestjs/microservices` `Server` (read without
 * loading that optional package): its handlers, by pattern, and `listen()`,
 * which Nest calls once they are all registered.
 */
export interface MessageServer {
  getHandlers(): Map<string, MessageHandler>;
  listen(...args: unknown[]): unknown;
}

/** What Nest registers per pattern: called with the payload and the message's context, it resolves to the answer. */
type MessageHandler = (...args: unknown[]) => Promise<unknown>;

export function isMessageServer(target: unknown): target is MessageServer {
  const candidate = target as Partial<MessageServer> | null;
  return typeof candidate?.getHandlers === 'function' && typeof candidate.listen === 'function';
}

const watchedServers = new WeakSet<MessageServer>();
const watchingHandlers = new WeakSet<MessageHandler>();

/**
 * Makes the server's answers release the tasks that the interceptor never
 * saw: those of a message that a guard rejected, or of a server that Nest
 * applies no global interceptor to. Its handlers are wrapped when it starts
 * listening.
 */
export function watchAnswers(server: MessageServer): void {
  if (watchedServers.has(server)) return;
  watchedServers.add(server);
  const listen = server.listen.bind(server);
  server.listen = (...args) => {
    const handlers = server.getHandlers();
    for (const [pattern, handler] of handlers) {
      if (!watchingHandlers.has(handler)) handlers.set(pattern, answerWatching(handler));
    }
    return listen(...args);
  };
}

/** The handler, and then a look at its message's context: only a message that has tasks by then is watched. */
function answerWatching(handler: MessageHandler): MessageHandler {
  const watching: MessageHandler = (...args) => handler(...args).then((answer) => releasedBy(answer, args[1]));
  watchingHandlers.add(watching);
  // What the transports read of a handler: isEventHandler, extras.
  return Object.assign(watching, handler);
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
  const release = (succeeded: boolean) => void setImmediate(() => tasks.finish(succeeded));
  if (!isObservable(answer)) {
    release(true);
    return answer;
  }
  return watchOutcome(answer, release);
}
