import { lastValueFrom, NEVER, of, Subject, throwError } from 'rxjs';
import { watchOutcome } from '../../../lib/utils/watch-outcome.js';

describe('watchOutcome()', () => {
  function watched() {
    const outcomes: boolean[] = [];
    return { outcomes, settle: (succeeded: boolean) => void outcomes.push(succeeded) };
  }

  it('settles once, as succeeded when the answer completes and as failed when it errors, and passes the answer on', async () => {
    const ok = watched();
    expect(await lastValueFrom(watchOutcome(of('ack'), ok.settle))).toBe('ack');
    const broken = watched();
    await expect(
      lastValueFrom(
        watchOutcome(
          throwError(() => new Error('no')),
          broken.settle,
        ),
      ),
    ).rejects.toThrow('no');
    expect([ok.outcomes, broken.outcomes]).toEqual([[true], [false]]);
  });

  it('settles as succeeded when its subscriber leaves after the answer emitted, and lets go of the answer', () => {
    const { outcomes, settle } = watched();
    const answer = new Subject<string>();
    const subscription = watchOutcome(answer, settle).subscribe();
    answer.next('partial');
    subscription.unsubscribe();
    expect(outcomes).toEqual([true]);
    expect(answer.observed).toBe(false);
  });

  it('waits for a handler still running when its subscriber leaves: its first value, error or end decides', () => {
    for (const [end, expected] of [
      [(answer: Subject<string>) => answer.next('late'), true],
      [(answer: Subject<string>) => answer.error(new Error('late')), false],
      [(answer: Subject<string>) => answer.complete(), true],
    ] as const) {
      const { outcomes, settle } = watched();
      const answer = new Subject<string>();
      watchOutcome(answer, settle).subscribe().unsubscribe();
      expect(outcomes).toEqual([]);
      end(answer);
      expect(outcomes).toEqual([expected]);
      expect(answer.observed).toBe(false);
    }
  });

  it('passes the end on only once a promise that settle returns has resolved (inline mode)', async () => {
    let resolve!: () => void;
    const ran = new Promise<void>((r) => (resolve = r));
    let completed = false;
    watchOutcome(of(1), () => ran).subscribe({ complete: () => (completed = true) });
    await Promise.resolve();
    expect(completed).toBe(false);
    resolve();
    await ran;
    await Promise.resolve();
    expect(completed).toBe(true);
  });

  it('never settles an answer that neither emits nor ends while subscribed', () => {
    const { outcomes, settle } = watched();
    watchOutcome(NEVER, settle).subscribe();
    expect(outcomes).toEqual([]);
  });
});
