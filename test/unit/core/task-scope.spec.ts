import { TaskRunner } from '../../../lib/core/task-runner.js';
import { currentScope, runInScope, TaskScope } from '../../../lib/core/task-scope.js';
import { batchDone, fail, ownedTasks, succeed } from '../../utils/owned-tasks.js';

describe('TaskScope', () => {
  it('is the scope of what runs inside it, across await, and of nothing outside', async () => {
    const scope = new TaskScope();
    expect(currentScope()).toBeUndefined();
    const seen = await runInScope(scope, async () => {
      await Promise.resolve();
      return currentScope();
    });
    expect(seen).toBe(scope);
    expect(currentScope()).toBeUndefined();
  });

  it('drops the tasks of a failed scope (but always ones) from a batch that succeeds, and runs the others', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const failed = new TaskScope();
    const resolved = new TaskScope();
    tasks.addTask((entry: string) => ran.push(entry), 'outside');
    runInScope(failed, () => {
      tasks.addTask((entry: string) => ran.push(entry), 'failed');
      tasks.addTaskWithOptions({ always: true }, (_context, entry: string) => ran.push(entry), 'failed-always');
    });
    runInScope(resolved, () => tasks.addTask((entry: string) => ran.push(entry), 'resolved'));
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
    runInScope(new TaskScope(), () => tasks.addTask((entry: string) => ran.push(entry), 'resolved'));
    fail(tasks);
    await batchDone(tasks);
    expect(ran).toEqual([]);
  });

  it('gives tasks added outside any scope the outer scope, once entered', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const outer = new TaskScope();
    tasks.enterOuterScope(outer);
    tasks.enterOuterScope(new TaskScope());
    tasks.addTask((entry: string) => ran.push(entry), 'outer');
    runInScope(new TaskScope(), () => tasks.addTask((entry: string) => ran.push(entry), 'inner'));
    outer.fail();
    succeed(tasks);
    await batchDone(tasks);
    expect(ran).toEqual(['inner']);
  });

  it('leaves tasks added after the batch settled out of any scope', async () => {
    const runner = new TaskRunner();
    const tasks = ownedTasks(runner);
    const ran: string[] = [];
    const scope = new TaskScope();
    scope.fail();
    succeed(tasks);
    runInScope(scope, () => tasks.addTask((entry: string) => ran.push(entry), 'late'));
    await batchDone(tasks);
    expect(ran).toEqual(['late']);
  });
});
