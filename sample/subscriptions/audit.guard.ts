import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
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
    // What Express's and Fastify's requests have in common: `originalUrl` (the URL as
    // received, query string included; Express rewrites `url` under mount points) and `method`.
    const { method, originalUrl } = context.switchToHttp().getRequest<{ method: string; originalUrl: string }>();
    const path = originalUrl.split('?', 1)[0];
    // Tasks added with options receive a context (signal, name) first.
    this.tasks.addTaskWithOptions(
      { always: true, name: 'audit' },
      (_context, line: string) => writeLog(line),
      `audit: ${method} ${path}`,
    );
    return true;
  }
}
