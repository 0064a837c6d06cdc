import { TaskRunner } from '../../../lib/core/task-runner.js';
import { TaskStates } from '../../../lib/core/task-states.js';
import { Task } from '../../../lib/core/task.js';
import { ownedTasks } from '../../utils/owned-tasks.js';
import { track } from '../../utils/wait-for.js';
import { flush } from '../../utils/process-watch.js';

/** Task records of one batch, moved through their states by hand, as the runner moves them. */
function setUp() {
  const owner = ownedTasks(new TaskRunner(), 'POST', '/x');
  const states = new TaskStates();
  const add = (name: string) => {
    const task = new Task(() => undefined, [], owner.batch, name, false, Infinity, true);
    owner.batch.push(task);
    states.added(task);
    return task;
  };
  return { states, add, batch: owner.batch };
}

const none = { total: 0, tasks: [] };

describe('TaskStates', () => {
  it('counts each task in exactly one state, and each end by exactly one counter', () => {
    const { states, add } = setUp();
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(add);
    states.started(a);
    states.started(b);
    states.started(c);
    states.endedRunning(a, 'succeeded', false);
    states.endedRunning(b, 'timed-out', true);
    states.endedRunning(c, 'dispatched', false); // counted by the job tracker
    states.endedQueued(d, 'cancelled');
    expect(states.stats()).toEqual({
      queued: 1,
      running: 0,
      overdue: 1,
      succeeded: 1,
      failed: 0,
      timedOut: 1,
      dropped: 0,
      cancelled: 1,
    });
    expect([a.state, b.state, c.state, d.state, e.state]).toEqual([
      'succeeded',
      'timed-out',
      'dispatched',
      'cancelled',
      'queued',
    ]);
    expect(b.overdue).toBe(true);
    states.overdueReturned(b);
    expect(b.overdue).toBe(false);
    expect(states.stats()).toMatchObject({ overdue: 0, timedOut: 1 });
  });

  it('lists each state oldest first, with the overdue ones apart', () => {
    const { states, add } = setUp();
    const [a, b] = ['a', 'b', 'c'].map(add);
    states.started(a);
    states.started(b);
    states.endedRunning(a, 'timed-out', true);
    const names = (list: { tasks: readonly { name: string; state: string }[] }) =>
      list.tasks.map(({ name, state }) => `${name} ${state}`);
    const snapshot = states.inspect(10);
    expect([names(snapshot.queued), names(snapshot.running), names(snapshot.overdue)]).toEqual([
      ['c queued'],
      ['b running'],
      ['a overdue'],
    ]);
    expect(snapshot.overdue.tasks[0].runningFor).toEqual(expect.any(Number));
  });

  it('is idle only once nothing is queued, running or overdue', async () => {
    const { states, add } = setUp();
    const a = add('a');
    const idle = track(states.whenIdle());
    states.started(a);
    states.endedRunning(a, 'timed-out', true);
    await flush();
    expect(idle.settled).toBe(false);
    states.overdueReturned(a);
    await flush();
    expect(idle.settled).toBe(true);
    expect(states.inspect(10)).toEqual({ queued: none, running: none, overdue: none });
  });

  it('counts as released the tasks of settled batches until they end, for the first phase of shutdown', () => {
    const { states, add, batch } = setUp();
    const a = add('a');
    expect(states.isReleasedIdle()).toBe(true); // its request is still in flight
    batch.outcome = 'succeeded';
    states.settled(batch);
    expect(states.isReleasedIdle()).toBe(false);
    const b = add('b'); // added after it settled
    states.started(a);
    states.endedRunning(a, 'succeeded', false);
    expect(states.isReleasedIdle()).toBe(false);
    states.endedQueued(b, 'dropped');
    expect(states.isReleasedIdle()).toBe(true);
  });
});
