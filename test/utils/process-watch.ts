import { runInThisContext } from 'node:vm';

/**
 * Jest gives each test file a copy of `process` whose listeners Node never
 * calls: unhandled rejections and uncaught exceptions are emitted on the host
 * process only. `runInThisContext` evaluates in the host context, so this is
 * the process that would crash. (Same technique as test/unit/test-utils.spec.ts,
 * which proves that the watch sees a deliberate unhandled rejection.)
 */
const hostProcess = runInThisContext('process') as NodeJS.Process;

export interface ProcessWatch {
  readonly unhandledRejections: unknown[];
  readonly uncaughtExceptions: unknown[];
  stop(): void;
}

/** Records what would crash the process, until `stop()`. */
export function watchProcess(): ProcessWatch {
  const unhandledRejections: unknown[] = [];
  const uncaughtExceptions: unknown[] = [];
  const onRejection = (reason: unknown) => void unhandledRejections.push(reason);
  const onException = (error: unknown) => void uncaughtExceptions.push(error);
  hostProcess.on('unhandledRejection', onRejection);
  hostProcess.on('uncaughtException', onException);
  return {
    unhandledRejections,
    uncaughtExceptions,
    stop() {
      hostProcess.off('unhandledRejection', onRejection);
      hostProcess.off('uncaughtException', onException);
    },
  };
}

/** Lets pending promise jobs, I/O callbacks and immediates run a few times over. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
