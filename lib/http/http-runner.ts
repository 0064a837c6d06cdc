import type { TaskRunner } from '../core/task-runner.js';

/** Where an HTTP adapter's instance keeps the runner, for `@Background()` to find without dependency injection. */
const HTTP_RUNNER = Symbol('nestjs-background-tasks:runner');

interface RunnerHolder {
  [HTTP_RUNNER]?: TaskRunner;
}

/** Lets `@Background()` reach the runner from a request of this HTTP adapter instance (Express app, Fastify instance). */
export function registerRunner(adapterInstance: object, runner: TaskRunner): void {
  (adapterInstance as RunnerHolder)[HTTP_RUNNER] = runner;
}

/**
 * The runner of the app that serves this request: Express requests know
 * their app, Fastify requests their instance (whose plugin contexts inherit
 * from it).
 */
export function runnerOf(request: object): TaskRunner | undefined {
  const holder = (request as { app?: RunnerHolder }).app ?? (request as { server?: RunnerHolder }).server;
  return holder?.[HTTP_RUNNER];
}
