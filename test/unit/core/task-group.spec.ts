import { TaskRunner } from '../../../lib/core/task-runner.js';
import { currentGroup, runInGroup, TaskGroup } from '../../../lib/core/task-group.js';
import { batchDone, fail, ownedTasks, succeed } from '../../utils/owned-tasks.js';

describe('TaskGroup', () => {
  it('is the group of what runs inside it, across await, and of nothing outside', async () => {
    const group = new TaskGroup();
    expect(currentGroup()).toBeUndefined();
    const seen = await runInGroup(group, async () => {
      await Promise.resolve();
      return currentGroup();
    });
    expect(seen).toBe(group);
    expect(currentGroup()).toBeUndefined();
  });

  it('drops the tasks of a failed group (but always ones) from a batch that succeeds, and runs the others', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const failed = new TaskGroup();
    const resolved = new TaskGroup();
    tasks.addTask((entry: string) => ran.push(entry), 'outside');
    runInGroup(failed, () => {
      tasks.addTask((entry: string) => ran.push(entry), 'failed');
      tasks.addTaskWithOptions({ always: true }, (_context, entry: string) => ran.push(entry), 'failed-always');
    });
    runInGroup(resolved, () => tasks.addTask((entry: string) => ran.push(entry), 'resolved'));
    failed.fail();
    succeed(tasks);
    await batchDone(tasks);
    expect(ran).toEqual(['outside', 'failed-always', 'resolved']);
    expect(runner.stats()).toMatchObject({ succeeded: 3, dropped: 1 });
  });

  it('still drops every task but always ones when the batch fails', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    runInGroup(new TaskGroup(), () => tasks.addTask((entry: string) => ran.push(entry), 'resolved'));
    fail(tasks);
    await batchDone(tasks);
    expect(ran).toEqual([]);
  });

  it('gives tasks added outside any group the outer group, once entered', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const outer = new TaskGroup();
    tasks.setOuterGroup(outer);
    tasks.setOuterGroup(new TaskGroup());
    tasks.addTask((entry: string) => ran.push(entry), 'outer');
    runInGroup(new TaskGroup(), () => tasks.addTask((entry: string) => ran.push(entry), 'inner'));
    outer.fail();
    succeed(tasks);
    await batchDone(tasks);
    expect(ran).toEqual(['inner']);
  });

  it('leaves tasks added after the batch settled out of any group', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const group = new TaskGroup();
    group.fail();
    succeed(tasks);
    runInGroup(group, () => tasks.addTask((entry: string) => ran.push(entry), 'late'));
    await batchDone(tasks);
    expect(ran).toEqual(['late']);
  });
});
