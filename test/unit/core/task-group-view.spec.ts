import { TaskGroupView } from '../../../lib/core/task-group-view.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import { TaskGroup } from '../../../lib/core/task-group.js';
import { batchDone, ownedTasks, succeed } from '../../utils/owned-tasks.js';

describe('TaskGroupView', () => {
  it('adds to the request’s tasks, in order, and into its group, which may drop them', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const failed = new TaskGroup();
    const view = new TaskGroupView(tasks, failed);
    tasks.addTask((entry: string) => ran.push(entry), 'request');
    view.addTask((entry: string) => ran.push(entry), 'view');
    view.addTaskWithOptions({ always: true }, (_context, entry: string) => ran.push(entry), 'view-always');
    failed.fail();
    succeed(tasks);
    await batchDone(tasks);
    expect(ran).toEqual(['request', 'view-always']);
  });

  it('shares `concurrent` and the names of queued tasks with the request’s tasks', () => {
    const tasks = ownedTasks(new TaskRunner());
    const view = new TaskGroupView(tasks, new TaskGroup());
    view.concurrent = true;
    expect(tasks.concurrent).toBe(true);
    tasks.addTaskWithOptions({ name: 'shared' }, () => undefined);
    expect(view.cancel('shared')).toBe(true);
    expect(view.concurrent).toBe(true);
  });
});
