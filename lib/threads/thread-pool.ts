import type { ResourceLimits, Worker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { THREAD_TASK_NOT_EXPORTED } from '../background-tasks.messages.js';
import { type ThreadTaskDefinition, threadTaskOf } from './thread-task.js';

/** The `threads` options, resolved. */
export interface ThreadPoolOptions {
  readonly maxThreads: number;
  readonly minThreads: number;
  readonly idleTimeout: number;
  readonly resourceLimits?: Readonly<ResourceLimits>;
}

/**
 * The worker threads of thread tasks: a piscina pool, loaded with a dynamic
 * `import()` and started on the first thread task, so that an app without
 * thread tasks loads none of it. The runner sends it at most `maxThreads`
 * tasks at once; each thread runs one at a time.
 */
export class ThreadPool {
  private pool?: Promise<Piscina>;
  /** The export under which each task's module has its handle, found once per task. */
  private readonly exportNames = new WeakMap<ThreadTaskDefinition, Promise<string>>();
  /** The exit of each of the pool's threads that has not exited. */
  private readonly exits = new Map<Worker, Promise<void>>();

  constructor(
    private readonly options: ThreadPoolOptions,
    /** A thread that failed while no task ran on it: nothing else would hear of it. */
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Runs the task in a thread; resolves or rejects as the task does there,
   * or rejects when its thread dies. Aborting `signal` ends the thread that
   * runs it (the pool replaces it), which stops its work at once.
   */
  async run(name: string, definition: ThreadTaskDefinition, args: readonly unknown[], signal: AbortSignal): Promise<unknown> {
    const [pool, exportName] = await Promise.all([(this.pool ??= this.start()), this.exportName(name, definition)]);
    return pool.run(args, {
      filename: definition.moduleUrl,
      name: exportName,
      signal,
      transferList: definition.transfer ? transferListOf(args) : undefined,
    });
  }

  /** Ends every thread, and any task still on one; resolves once they have all exited. */
  async close(): Promise<void> {
    // A pool that failed to start has failed its tasks already, and has nothing to close.
    const pool = await this.pool?.catch(() => undefined);
    if (pool === undefined) return;
    await pool.destroy();
    // destroy() waits for the threads it ends, not for those that aborted tasks ended a moment before.
    await Promise.all(this.exits.values());
  }

  private async start(): Promise<Piscina> {
    const { Piscina } = await import('piscina');
    const { maxThreads, minThreads, idleTimeout, resourceLimits } = this.options;
    // Without atomics, an idle thread's event loop runs: what a task left pending (a write it did not await) completes.
    const pool = new Piscina({ maxThreads, minThreads, idleTimeout, resourceLimits, atomics: 'disabled' });
    pool.on('error', this.onError);
    // A thread that piscina has just started is among its threads: close() will wait for its exit.
    pool.on('workerCreate', () => {
      for (const worker of pool.threads) if (!this.exits.has(worker)) this.watchExit(worker);
    });
    return pool;
  }

  private watchExit(worker: Worker): void {
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.exits.set(
      worker,
      exited.then(() => void this.exits.delete(worker)),
    );
  }

  private exportName(name: string, definition: ThreadTaskDefinition): Promise<string> {
    let exportName = this.exportNames.get(definition);
    if (exportName === undefined) this.exportNames.set(definition, (exportName = findExport(name, definition)));
    return exportName;
  }
}

/**
 * The name under which the task's module exports its handle, which is how a
 * thread, loading the module, finds it: the module is loaded here already
 * (it made the handle), so this import only reads its exports. A CommonJS
 * module's exports are its `default` export's properties.
 */
async function findExport(name: string, definition: ThreadTaskDefinition): Promise<string> {
  const exports = (await import(definition.moduleUrl)) as Record<string, unknown>;
  const cjsExports = exports.default;
  const candidates = [exports, typeof cjsExports === 'object' && cjsExports !== null ? cjsExports : {}];
  for (const candidate of candidates) {
    for (const [key, value] of Object.entries(candidate)) {
      if (threadTaskOf(value) === definition) return key;
    }
  }
  throw new Error(THREAD_TASK_NOT_EXPORTED(name, definition.moduleUrl));
}

/**
 * The buffers of the arguments to move to the thread: those that a view
 * (a Buffer, a typed array) covers whole. A view of part of a buffer, such as
 * a small Buffer of Node's shared pool, is copied: moving it would empty the
 * other views of that buffer.
 */
function transferListOf(args: readonly unknown[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const arg of args) {
    if (arg instanceof ArrayBuffer) buffers.add(arg);
    else if (ArrayBuffer.isView(arg) && arg.buffer instanceof ArrayBuffer && arg.byteLength === arg.buffer.byteLength) {
      buffers.add(arg.buffer);
    }
  }
  return [...buffers];
}
