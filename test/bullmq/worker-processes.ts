import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BackgroundTasksModuleOptions } from '../../lib/index.js';
import { post } from '../utils/http.js';
import { waitFor, within } from '../utils/wait-for.js';

const WORKER = join(import.meta.dirname, '../fixtures/bullmq-worker.mjs');

export interface WorkerProcessOptions {
  readonly connection: unknown;
  readonly prefix?: string;
  readonly queueName: string;
  readonly journal: string;
  readonly worker?: object;
  readonly slowMs?: number;
  readonly backend?: 'postgres';
  /** The worker's `tracing` option; its spans go to the `spans` file. */
  readonly tracing?: BackgroundTasksModuleOptions['tracing'];
  readonly spans?: string;
  /** The providers whose handlers it has (see the fixture); default `['Mailer']`. */
  readonly handlers?: readonly string[];
  /** More options of its BullMQ module. */
  readonly options?: object;
}

/** A span that a worker process ended, as it wrote it to its `spans` file. */
export interface WorkerSpan {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parent?: { readonly traceId: string; readonly spanId: string };
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: number;
  readonly events: readonly string[];
}

/** Worker processes of test/fixtures/bullmq-worker.mjs (on dist/: build first), stopped by `stopAll()`. */
export class WorkerProcesses {
  private readonly children = new Set<ChildProcess>();

  /** Starts one, and resolves with its pid once its app is up. */
  async start(options: WorkerProcessOptions): Promise<ChildProcess> {
    const child = spawn(process.execPath, [WORKER], {
      env: {
        ...process.env,
        CONNECTION: JSON.stringify(options.connection),
        PREFIX: options.prefix ?? '',
        QUEUE: options.queueName,
        JOURNAL: options.journal,
        WORKER: JSON.stringify(options.worker ?? {}),
        SLOW_MS: String(options.slowMs ?? 0),
        BACKEND: options.backend ?? '',
        TRACING: JSON.stringify(options.tracing ?? false),
        SPANS: options.spans ?? '',
        HANDLERS: (options.handlers ?? ['Mailer']).join(','),
        OPTIONS: JSON.stringify(options.options ?? {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    const started = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`the worker exited with ${code} before it started`)));
    });
    await within('a worker process to start', started, 20_000);
    return child;
  }

  /** Stops them all with SIGTERM (they drain), or SIGKILL. */
  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all([...this.children].map((child) => stop(child, signal)));
  }
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await within(`worker ${child.pid} to exit on ${signal}`, exited, 20_000);
}

/** The spans that worker processes wrote to `file`, in the order they ended. */
export async function workerSpans(file: string): Promise<WorkerSpan[]> {
  return (await lines(file)).map((line) => JSON.parse(line) as WorkerSpan);
}

/** The journal's lines, each `<entry> <pid>`. */
export async function journalLines(file: string): Promise<Array<{ entry: string; pid: number }>> {
  return (await lines(file)).map((line) => {
    const at = line.lastIndexOf(' ');
    return { entry: line.slice(0, at), pid: Number(line.slice(at + 1)) };
  });
}

/**
 * Scenario 5's load: one sign-up request per id, 50 at a time, each answered
 * 201; resolves with the journal's welcome lines once there are as many as ids.
 */
export async function signUpAll(
  port: number,
  ids: readonly string[],
  file: string,
  timeout: number,
): Promise<Array<{ entry: string; pid: number }>> {
  for (let i = 0; i < ids.length; i += 50) {
    const answers = await Promise.all(ids.slice(i, i + 50).map((id) => post(port, `/signup/${id}`)));
    expect(answers.every(({ status }) => status === 201)).toBe(true);
  }
  return waitFor(
    `${ids.length} jobs to complete`,
    async () => {
      const welcomes = (await journalLines(file)).filter(({ entry }) => entry.startsWith('welcome '));
      return welcomes.length >= ids.length && welcomes;
    },
    timeout,
  );
}

async function lines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}
