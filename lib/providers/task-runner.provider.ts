import type { FactoryProvider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { BACKGROUND_TASKS_MODE, BACKGROUND_TASKS_MODULE_OPTIONS } from '../background-tasks.module-definition.js';
import { CONFIGURED_TWICE, TRACING_WITHOUT_API } from '../background-tasks.messages.js';
import { resolveOptions, type ResolvedBackgroundTasksOptions, type ResolvedTracingOptions } from '../core/runner-options.js';
import { TaskRunner } from '../core/task-runner.js';
import type { TaskTelemetryFactory } from '../core/task-telemetry.js';
import { isValueProvider, providersOf } from '../internals/nest-internals.js';
import type {
  BackgroundTasksMode,
  BackgroundTasksModuleOptions,
} from '../interfaces/background-tasks-module-options.interface.js';

/** The options of a plain `imports: [BackgroundTasksModule]`: the defaults, which a configured import overrides. */
export const PLAIN_IMPORT_OPTIONS: BackgroundTasksModuleOptions = Object.freeze({});

/**
 * One runner per app, however many times the module is imported. Every
 * import's factory returns it: a configured import (`forRoot()`,
 * `forRootAsync()`) creates it with its options, and the plain imports wait
 * for that one; with plain imports only, the first creates it with the
 * defaults. Two configured imports must agree.
 */
export const taskRunnerProvider: FactoryProvider<TaskRunner | Promise<TaskRunner>> = {
  provide: TaskRunner,
  inject: [BACKGROUND_TASKS_MODULE_OPTIONS, BACKGROUND_TASKS_MODE, ModulesContainer],
  useFactory: (options: BackgroundTasksModuleOptions, mode: BackgroundTasksMode | null, modules: ModulesContainer) => {
    let app = apps.get(modules);
    if (app === undefined) apps.set(modules, (app = new AppRunner(modules)));
    return app.runnerFor(options, mode);
  },
};

const apps = new WeakMap<ModulesContainer, AppRunner>();

class AppRunner {
  private runner?: TaskRunner;
  private resolveRunner!: (runner: TaskRunner) => void;
  private readonly created = new Promise<TaskRunner>((resolve) => (this.resolveRunner = resolve));
  private configured?: ResolvedBackgroundTasksOptions;

  constructor(private readonly modules: ModulesContainer) {}

  runnerFor(options: BackgroundTasksModuleOptions, mode: BackgroundTasksMode | null): TaskRunner | Promise<TaskRunner> {
    // A mode given by the testing token overrides the options' mode, and keeps the rest.
    const resolved = resolveOptions(mode === null ? options : { ...options, mode });
    if (options !== PLAIN_IMPORT_OPTIONS) {
      if (this.configured === undefined) {
        this.configured = resolved;
        return this.create(resolved);
      }
      const differences = differencesBetween(this.configured, resolved);
      if (differences.length > 0) throw new Error(CONFIGURED_TWICE(differences));
      return this.created;
    }
    if (this.runner !== undefined || this.hasConfiguredImport()) return this.created;
    return this.create(resolved);
  }

  private create(options: ResolvedBackgroundTasksOptions): TaskRunner | Promise<TaskRunner> {
    if (options.tracing === false) return this.publish(new TaskRunner(options));
    return openTelemetry(options.tracing).then((telemetry) => this.publish(new TaskRunner(options, telemetry)));
  }

  private publish(runner: TaskRunner): TaskRunner {
    this.runner = runner;
    this.resolveRunner(runner);
    return runner;
  }

  /** Whether any import of the module has options other than the plain import's (forRoot, forRootAsync, or a test's override). */
  private hasConfiguredImport(): boolean {
    return providersOf(this.modules, BACKGROUND_TASKS_MODULE_OPTIONS).some(
      (options) => !isValueProvider(options) || options.instance !== PLAIN_IMPORT_OPTIONS,
    );
  }
}

/** Loads the OpenTelemetry adapter, and @opentelemetry/api with it: only when tracing is on. */
async function openTelemetry(options: ResolvedTracingOptions): Promise<TaskTelemetryFactory> {
  try {
    const adapter = await import('../opentelemetry/opentelemetry-telemetry.js');
    return adapter.openTelemetry(options);
  } catch (error) {
    if (String((error as Error | undefined)?.message).includes("'@opentelemetry/api'")) {
      throw new Error(TRACING_WITHOUT_API, { cause: error });
    }
    throw error;
  }
}

function differencesBetween(first: ResolvedBackgroundTasksOptions, second: ResolvedBackgroundTasksOptions): string[] {
  const keys = new Set([...Object.keys(first), ...Object.keys(second)] as Array<keyof ResolvedBackgroundTasksOptions>);
  return [...keys]
    .filter((key) => !Object.is(first[key], second[key]))
    .map((key) => `${key}: ${describeOption(first[key])} and ${describeOption(second[key])}`);
}

function describeOption(value: unknown): string {
  if (typeof value === 'function') return value.name ? `function ${value.name}` : 'a function';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : 'none';
}
