import type { BackgroundTasksModuleOptions } from './background-tasks-module-options.interface.js';

/**
 * A provider that gives {@link BackgroundTasksModule} its options, for
 * `forRootAsync({ useClass })` (Nest creates it, with its own dependencies)
 * or `forRootAsync({ useExisting })` (Nest finds it among the imported
 * providers). Nest calls `createBackgroundTasksOptions()` once, at startup;
 * the options are then checked as `forRoot()`'s are.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class BackgroundTasksConfig implements BackgroundTasksOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *
 *   createBackgroundTasksOptions(): BackgroundTasksModuleOptions {
 *     return { shutdownTimeout: Number(this.config.get<string>('SHUTDOWN_TIMEOUT') ?? 10_000) };
 *   }
 * }
 *
 * BackgroundTasksModule.forRootAsync({ imports: [ConfigModule], useClass: BackgroundTasksConfig });
 * ```
 */
export interface BackgroundTasksOptionsFactory {
  /** The module's options, or a promise of them: startup waits for it. */
  createBackgroundTasksOptions(): Promise<BackgroundTasksModuleOptions> | BackgroundTasksModuleOptions;
}
