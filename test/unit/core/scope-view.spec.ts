import { ScopeView } from '../../../lib/core/scope-view.js';
import { TaskRunner } from '../../../lib/core/task-runner.js';
import { TaskScope } from '../../../lib/core/task-scope.js';
import { batchDone, ownedTasks, succeed } from '../../utils/owned-tasks.js';

describe('ScopeView', () => {
  it('adds to the request’s tasks, in order, and into its scope, which may drop them', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const failed = new TaskScope();
    const view = new ScopeView(tasks, failed);
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
    const view = new ScopeView(tasks, new TaskScope());
    view.concurrent = true;
    expect(tasks.concurrent).toBe(true);
    tasks.addTaskWithOptions({ name: 'shared' }, () => undefined);
    expect(view.cancel('shared')).toBe(true);
    expect(view.concurrent).toBe(true);
  });
});
