import { TaskBatch } from '../../../lib/core/task-batch.js';
import { TaskSequencer } from '../../../lib/core/task-sequence.js';

/** A task of a fake batch: the sequencer reads only its state and link. */
interface Step {
  state: string;
  readonly name: string;
  nextInBatch?: Step;
}

describe('TaskSequencer', () => {
  function sequence(endsAt: (step: Step) => 'start' | 'later') {
    const started: string[] = [];
    let deepest = 0;
    let depth = 0;
    const batch = new TaskBatch<Step>({ concurrent: false, origin: { transport: 'none', method: '', path: '' } });
    const sequencer: TaskSequencer<Step> = new TaskSequencer((step) => {
      deepest = Math.max(deepest, ++depth);
      step.state = 'running';
      started.push(step.name);
      if (endsAt(step) === 'start') end(step);
      depth--;
    });
    const end = (step: Step) => {
      step.state = 'ended';
      if (batch.current === step) sequencer.next(batch);
    };
    const add = (...names: string[]) => {
      for (const name of names) batch.push({ state: 'queued', name });
    };
    return { batch, sequencer, started, end, add, deepest: () => deepest };
  }

  it('starts the next task only when the current one ends', () => {
    const { batch, sequencer, started, end, add } = sequence(() => 'later');
    add('a', 'b');
    sequencer.begin(batch);
    expect(started).toEqual(['a']);
    sequencer.begin(batch); // under way already
    expect(started).toEqual(['a']);
    end(batch.current!);
    expect(started).toEqual(['a', 'b']);
    end(batch.current!);
    expect(batch.current).toBeUndefined();
  });

  it('loops through tasks that end while they start: ten thousand never deepen the stack', () => {
    const { batch, sequencer, started, add, deepest } = sequence(() => 'start');
    const names = Array.from({ length: 10_000 }, (_, i) => `t${i}`);
    add(...names);
    sequencer.begin(batch);
    expect(started).toEqual(names);
    expect(deepest()).toBe(1);
    expect(batch.current).toBeUndefined();
  });

  it('picks up a task added while the last one runs, and one added after the sequence ended once begun again', () => {
    const { batch, sequencer, started, end, add } = sequence((step) => (step.name === 'a' ? 'later' : 'start'));
    add('a');
    sequencer.begin(batch);
    add('b');
    sequencer.begin(batch); // as the runner does for a task added to a settled batch
    end(batch.current!);
    expect(started).toEqual(['a', 'b']);
    add('c');
    sequencer.begin(batch);
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('skips tasks that ended before their turn (dropped, cancelled)', () => {
    const { batch, sequencer, started, add } = sequence(() => 'start');
    add('a', 'b', 'c');
    [...batch.queued()][1].state = 'cancelled';
    sequencer.begin(batch);
    expect(started).toEqual(['a', 'c']);
  });
});
