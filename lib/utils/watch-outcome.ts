import { noop, Observable, type Subscription } from 'rxjs';

/**
 * Mirrors a handler's answer, and calls `decide` once with whether the
 * handler succeeded: when the answer completes or errors, and also when its
 * subscriber leaves first (Nest's WebSocket adapter, when the client
 * disconnects; gRPC, when a call is cancelled). An answer that has emitted
 * by then succeeded: the handler returned, though its answer cannot be sent.
 * One that has not may come from a handler still running: it stays
 * subscribed, and its first value or its end decides, so that no task
 * runs before its handler has finished, and none waits longer than it.
 *
 * When `decide` returns a promise (inline mode), the end is passed on once
 * it resolves. Used for microservice and WebSocket messages alike.
 */
export function watchOutcome(
  answer: Observable<unknown>,
  decide: (succeeded: boolean) => Promise<void> | undefined,
): Observable<unknown> {
  return new Observable((subscriber) => {
    let state: 'running' | 'returned' | 'decided' = 'running';
    let left = false;
    const end = (succeeded: boolean, passOn: () => void) => {
      state = 'decided';
      const deciding = decide(succeeded);
      if (deciding === undefined) passOn();
      else void deciding.then(passOn);
    };
    const watching: Subscription = answer.subscribe({
      next: (value) => {
        if (!left) {
          state = 'returned';
          subscriber.next(value);
          return;
        }
        // Its subscriber left while the handler ran: this first value says it has returned.
        end(true, noop);
        watching.unsubscribe();
      },
      error: (error: unknown) => end(false, () => subscriber.error(error)),
      complete: () => end(true, () => subscriber.complete()),
    });
    return () => {
      if (state === 'decided') return;
      left = true;
      if (state === 'running') return;
      end(true, noop);
      watching.unsubscribe();
    };
  });
}
