import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { BackgroundTasks } from 'nestjs-background-tasks';
import { writeLog } from '../log.js';

/**
 * Lets every request through, and logs it once the response has been sent,
 * even when the request then fails: the task is added with `always`.
 *
 * To audit every route, register it with `{ provide: APP_GUARD, useClass: AuditGuard }`
 * and mark it `@Injectable({ scope: Scope.REQUEST })`, which Nest 12 requires of a
 * global guard with request-scoped dependencies. That makes every controller
 * request-scoped, though, including the `@Background()` ones.
 */
@Injectable()
export class AuditGuard implements CanActivate {
  constructor(private readonly tasks: BackgroundTasks) {}

  canActivate(context: ExecutionContext): boolean {
    const { method, path } = context.switchToHttp().getRequest<Request>();
    // Tasks added with options receive a context (signal, name) first.
    this.tasks.addTaskWithOptions(
      { always: true, name: 'audit' },
      (_context, line: string) => writeLog(line),
      `audit: ${method} ${path}`,
    );
    return true;
  }
}
