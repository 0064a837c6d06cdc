import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { TRACING_WITHOUT_API } from '../lib/background-tasks.messages.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
/** tsc as a consumer would run it on its app. */
const TSC_ARGS = [
  tsc,
  '--noEmit',
  '--strict',
  '--target',
  'es2022',
  '--module',
  'nodenext',
  '--moduleResolution',
  'nodenext',
  '--experimentalDecorators',
  '--emitDecoratorMetadata',
  '--types',
  'node',
];

/** A consumer that uses the public API as documented; must type-check cleanly. */
const validConsumer = `
import 'reflect-metadata';
import { Controller, Injectable, Module, Post } from '@nestjs/common';
import {
  Background,
  BackgroundTasks,
  BackgroundTasksModule,
  BackgroundTasksMonitor,
  BackgroundTasksOverflowException,
  type BackgroundTaskContext,
  type BackgroundTaskEvent,
  type BackgroundTaskStats,
  type BackgroundTasksModuleOptions,
  type BackgroundTasksOptionsFactory,
  BackgroundTask,
  BackgroundTaskHandler,
  BackgroundTaskRunner,
  BackgroundTasksQueueFullException,
} from 'nestjs-background-tasks';
import { threadTask, type ThreadTask } from 'nestjs-background-tasks/threads';

export const hash: ThreadTask<[data: Uint8Array, rounds: number]> = threadTask(
  import.meta.url,
  function hash(data: Uint8Array, rounds: number) {
    return data.length * rounds;
  },
  { transfer: true },
);

async function sendEmail(to: string, attempts: number): Promise<void> {
  void to;
  void attempts;
}

@Injectable()
export class Mailer {
  constructor(private readonly tasks: BackgroundTasks) {}
  welcome(to: string): void {
    this.tasks.addTask(sendEmail, to, 3);
  }
}

@Controller()
export class AppController {
  @Post('x')
  x(@Background() tasks: BackgroundTasks): void {
    tasks.addTask(sendEmail, 'a@example.com', 1);
    tasks.addTask(() => undefined);
    tasks.addTaskWithOptions(
      { name: 'reindex', always: true, timeout: 5000 },
      ({ signal }: BackgroundTaskContext, id: number) => fetch(\`http://search/\${id}\`, { signal }),
      7,
    );
    tasks.cancel('reindex');
    tasks.addTask(hash, new Uint8Array(8), 2);
    tasks.addTaskWithOptions({ name: 'hash', timeout: 1000 }, hash, new Uint8Array(8), 2);
    tasks.concurrent = true;
  }
}

export function report(runner: BackgroundTasksMonitor): Promise<BackgroundTaskStats> {
  return runner.whenIdle().then(() => runner.stats());
}

export const full = new BackgroundTasksOverflowException('task', 10).getStatus();

const options: BackgroundTasksModuleOptions = {
  shutdownTimeout: 5000,
  concurrency: 10,
  maxQueued: 1000,
  overflow: 'drop-oldest',
  taskTimeout: 30_000,
  mode: 'background',
  tracing: { parent: 'link', metrics: true },
  threads: { maxThreads: 2, minThreads: 0, idleTimeout: 10_000, resourceLimits: { maxOldGenerationSizeMb: 256 } },
  onTaskFailed: (event: BackgroundTaskEvent) => console.error(event.name, event.path, event.error),
  onTaskDropped: ({ name, reason }) => console.warn(name, reason),
};

@Module({
  imports: [BackgroundTasksModule.forRoot(options)],
  controllers: [AppController],
  providers: [Mailer],
})
export class AppModule {}

export const asyncModule = BackgroundTasksModule.forRootAsync({ useFactory: () => ({ shutdownTimeout: Infinity }) });

@Injectable()
export class TasksConfig implements BackgroundTasksOptionsFactory {
  createBackgroundTasksOptions(): BackgroundTasksModuleOptions {
    return options;
  }
}
export const classModule = BackgroundTasksModule.forRootAsync({ useClass: TasksConfig });

// The public classes have exactly their public members: nothing internal shows in the .d.ts.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const tasksMembers: Exactly<keyof BackgroundTasks, 'concurrent' | 'addTask' | 'addTaskWithOptions' | 'cancel'> = true;
export const runnerMembers: Exactly<keyof BackgroundTasksMonitor, 'stats' | 'whenIdle' | 'inspect'> = true;

// The names of 1.0 still work, as the very same classes and decorator: an injected BackgroundTaskRunner is the monitor.
export function oldReport(runner: BackgroundTaskRunner): Promise<BackgroundTaskStats> {
  return report(runner);
}
export const sameRunner: typeof BackgroundTasksMonitor = BackgroundTaskRunner;
export const sameDecorator: typeof BackgroundTaskHandler = BackgroundTask;
export const oldFull: BackgroundTasksOverflowException = new BackgroundTasksQueueFullException('task', 10);
`;

/** The BullMQ subpath, where bullmq and ioredis are installed. */
const validBullMQConsumer = `
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { AppBackgroundTasks, BackgroundTasksModule } from 'nestjs-background-tasks';
import {
  BackgroundTaskHandler,
  BackgroundTasksBullMQModule,
  type BackgroundTasksBullMQOptions,
  type BackgroundTasksBullMQOptionsFactory,
} from 'nestjs-background-tasks/bullmq';

@Injectable()
export class Mailer {
  constructor(private readonly tasks: AppBackgroundTasks) {}
  @BackgroundTaskHandler({ attempts: 3, backoff: { type: 'exponential', delay: 1000 } })
  async sendWelcome(userId: string): Promise<void> {
    void userId;
  }
  welcome(userId: string): void {
    this.tasks.addTask(this.sendWelcome, userId);
  }
}

const options: BackgroundTasksBullMQOptions = {
  connection: { host: 'localhost', port: 6379 },
  worker: { concurrency: 5 },
  enqueueTimeout: 500,
  onEnqueueFailure: 'drop',
};

@Module({ imports: [BackgroundTasksModule.forRoot({}), BackgroundTasksBullMQModule.forRoot(options)], providers: [Mailer] })
export class AppModule {}

@Injectable()
export class QueueConfig implements BackgroundTasksBullMQOptionsFactory {
  async createBackgroundTasksBullMQOptions(): Promise<BackgroundTasksBullMQOptions> {
    return options;
  }
}
export const classModule = BackgroundTasksBullMQModule.forRootAsync({ useClass: QueueConfig });
`;

/** The same from a CommonJS module (require of the ESM build). */
const validCommonJsConsumer = `import { BackgroundTasks, BackgroundTasksModule } from 'nestjs-background-tasks';
import { threadTask } from 'nestjs-background-tasks/threads';
declare const tasks: BackgroundTasks;
tasks.addTask((to: string) => to, 'a@example.com');
export const double = threadTask(__filename, (n: number) => n * 2);
tasks.addTask(double, 21);
export const backgroundTasks = BackgroundTasksModule.forRoot({ shutdownTimeout: 1000 });
`;

/** Misuses, each of which must be a type error at the line given. */
const invalidConsumer = `import { BackgroundTasksMonitor, BackgroundTasks, BackgroundTasksModule } from 'nestjs-background-tasks';
import { threadTask } from 'nestjs-background-tasks/threads';
declare const tasks: BackgroundTasks;
tasks.addTask((to: string) => to, 42);
tasks.addTask((to: string, attempts: number) => to.repeat(attempts), 'a@example.com');
BackgroundTasksModule.forRoot({ shutdownTimeout: '10s' });
tasks.addTask((to: string) => to, 'a@example.com', 'extra');
tasks.batch;
tasks.addTaskWithOptions({ timeout: 100 }, (_context, to: string) => to, 42);
BackgroundTasksModule.forRoot({ overflow: 'drop' });
new BackgroundTasks();
declare const runner: BackgroundTasksMonitor;
runner.options;
tasks.addTask(threadTask(import.meta.url, (n: number) => n * 2), '21');
`;
const expectedErrors = [
  'invalid.ts:4 TS2345', // wrong argument type
  'invalid.ts:5 TS2345', // missing argument
  'invalid.ts:6 TS2322', // bad option
  'invalid.ts:7 TS2345', // extra argument
  'invalid.ts:8 TS2339', // the implementation's members are not on the public type
  'invalid.ts:9 TS2345', // wrong argument type, with options
  'invalid.ts:10 TS2322', // unknown overflow policy
  'invalid.ts:11 TS2511', // BackgroundTasks is abstract: only the module creates it
  'invalid.ts:13 TS2339', // the runner's options are not public
  'invalid.ts:14 TS2345', // a thread task's wrong argument type
];

describe('npm pack', () => {
  let tmp: string;
  let files: string[];
  let app: string;
  let installed: string;
  let withPeers: string;

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(join(tmpdir(), 'bg-tasks-pack-')));
    // Packs a copy, as prepack rebuilds dist/, which other specs use meanwhile.
    const source = join(tmp, 'source');
    await cp(root, source, {
      recursive: true,
      filter: (path) => !/^(node_modules|dist|coverage|\.git)$|\.tgz$/.test(relative(root, path)),
    });
    await symlink(join(root, 'node_modules'), join(source, 'node_modules'), 'dir');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: source, timeout: 120_000 });
    const tarball = join(tmp, (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename);
    const listing = await run('tar', ['-tzf', tarball]);
    files = listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, ''));

    // A fresh app: the tarball installed, the repo's packages (Nest 12 and its deps) linked beside it,
    // but for the optional peers that an app may not have: the package must start without them.
    app = join(tmp, 'app');
    installed = join(app, 'node_modules/nestjs-background-tasks');
    await mkdir(installed, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    await linkPackages(join(root, 'node_modules'), join(app, 'node_modules'), (name) => !leftOut(name));
    // A second app with them, for the subpath that needs one.
    withPeers = join(tmp, 'with-peers');
    await mkdir(join(withPeers, 'node_modules/nestjs-background-tasks'), { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', join(withPeers, 'node_modules/nestjs-background-tasks'), '--strip-components=1']);
    await linkPackages(join(root, 'node_modules'), join(withPeers, 'node_modules'), () => true);
    await writeFile(
      join(withPeers, 'package.json'),
      JSON.stringify({ name: 'consumer-with-peers', private: true, type: 'module' }),
    );
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }));
  }, 180_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('leaves out the optional peers in the consumer app, whose boot tests below prove them optional', () => {
    for (const name of WITHOUT) expect(existsSync(join(app, 'node_modules', name))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@opentelemetry/api'))).toBe(false);
  });

  it('starts with tracing on where @opentelemetry/api is installed, and stops with what to do where it is not', async () => {
    for (const dir of [app, withPeers])
      await copyFile(join(import.meta.dirname, 'fixtures/tracing-consumer.mjs'), join(dir, 'tracing.mjs'));
    const withApi = await run(process.execPath, ['tracing.mjs'], { cwd: withPeers, timeout: 60_000 });
    expect(JSON.parse(withApi.stdout)).toEqual({ stats: expect.objectContaining({ succeeded: 1 }) });
    const without = await run(process.execPath, ['tracing.mjs'], { cwd: app, timeout: 60_000 });
    expect(JSON.parse(without.stdout)).toEqual({ error: TRACING_WITHOUT_API });
  }, 90_000);

  it('loads nestjs-background-tasks/terminus where @nestjs/terminus is installed, and only there', async () => {
    const probe = `import('nestjs-background-tasks/terminus').then((m) => console.log(typeof m.BackgroundTasksHealthIndicator), (e) => console.log(e.code))`;
    const withTerminus = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: withPeers });
    expect(withTerminus.stdout.trim()).toBe('function');
    const without = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: app });
    expect(without.stdout.trim()).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('loads nestjs-background-tasks/bullmq where bullmq and ioredis are installed, and only there', async () => {
    const probe = `import('nestjs-background-tasks/bullmq').then((m) => console.log(typeof m.BackgroundTasksBullMQModule, typeof m.BackgroundTaskHandler), (e) => console.log(e.code))`;
    const withBullMQ = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: withPeers });
    expect(withBullMQ.stdout.trim()).toBe('function function');
    const without = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: app });
    expect(without.stdout.trim()).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('packs the build, package.json and docs, and no sources or tests', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'package.json']));
    // The README comes later; once it exists, it must ship.
    if (existsSync(join(root, 'README.md'))) expect(files).toContain('README.md');
    const shipped =
      /^(dist\/.+\.(js|d\.ts)|package\.json|README\.md|CONTRIBUTING\.md|LICENSE|docs\/[\w-]+\.md|bench\/(RESULTS\.md|results\.svg))$/;
    expect(files.filter((path) => !shipped.test(path))).toEqual([]);
    expect(files.filter((path) => /^(lib|test|sample)\//.test(path) || /\.spec\./.test(path))).toEqual([]);
  });

  it('ships what its Markdown files link to: every relative link and anchor resolves inside the package', async () => {
    const docs = new Map<string, string>();
    for (const doc of files.filter((path) => path.endsWith('.md'))) docs.set(doc, await readFile(join(installed, doc), 'utf8'));
    expect([...docs.keys()]).toContain('README.md');
    const dead: string[] = [];
    for (const [doc, markdown] of docs) {
      for (const link of markdownLinks(markdown)) {
        if (/^[a-z][a-z+.-]*:/i.test(link)) continue; // absolute: https:, mailto:
        const [path, anchor] = link.split('#');
        const target = path ? posix.normalize(posix.join(dirname(doc), decodeURIComponent(path))) : doc;
        if (!files.includes(target)) dead.push(`${doc}: ${link} (not in the package)`);
        else if (anchor !== undefined && docs.has(target) && !headingAnchors(docs.get(target)!).has(anchor)) {
          dead.push(`${doc}: ${link} (no such heading in ${target})`);
        }
      }
    }
    expect(dead).toEqual([]);
  });

  it.each([
    ['an ES module', 'consumer.mjs', pathToFileURL, 'esm task'],
    ['a CommonJS', 'consumer.cjs', (path: string) => path, 'cjs task'],
  ])(
    'boots a Nest app from %s consumer and runs its task, and its thread task in a worker thread',
    async (_kind, file, toResolved, task) => {
      const threadModule = file.replace('consumer', 'consumer-thread');
      for (const copied of [file, threadModule]) await copyFile(join(import.meta.dirname, 'fixtures', copied), join(app, copied));
      const { stdout } = await run(process.execPath, [file], { cwd: app, timeout: 60_000 });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(result).toEqual({
        resolved: String(toResolved(join(installed, 'dist/index.js'))),
        status: 201,
        ran: [task],
        thread: { result: 42, inWorker: true },
      });
    },
    90_000,
  );

  it('ships declarations that type-check a consumer and reject wrong task arguments', async () => {
    await writeFile(join(app, 'valid.ts'), validConsumer);
    await writeFile(join(app, 'valid.cts'), validCommonJsConsumer);
    await writeFile(join(app, 'invalid.ts'), invalidConsumer);
    const args = [...TSC_ARGS, 'valid.ts', 'valid.cts', 'invalid.ts'];
    // tsc exits non-zero because of invalid.ts; its report is what matters.
    const output = await run(process.execPath, args, { cwd: app, timeout: 90_000 }).then(
      ({ stdout }) => stdout,
      (error: Error & { stdout?: string }) => error.stdout ?? error.message,
    );
    const errors = [...output.matchAll(/^(\S+)\((\d+),\d+\): error (TS\d+)/gm)].map(
      ([, file, line, code]) => `${file}:${line} ${code}`,
    );
    if (errors.join() !== expectedErrors.join()) {
      throw new Error(`Expected exactly ${expectedErrors.join(', ')}; tsc reported:\n${output}`);
    }
  }, 90_000);

  it('ships declarations of the BullMQ subpath that type-check a consumer with bullmq installed', async () => {
    await writeFile(join(withPeers, 'bullmq.ts'), validBullMQConsumer);
    const output = await run(process.execPath, [...TSC_ARGS, 'bullmq.ts'], { cwd: withPeers, timeout: 90_000 }).then(
      ({ stdout }) => stdout,
      (error: Error & { stdout?: string }) => error.stdout ?? error.message,
    );
    expect(output).toBe('');
  }, 90_000);
});

/** The lines of a Markdown text outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) fence = marker;
    else if (fence !== undefined && marker && marker.startsWith(fence) && line.trim() === marker) fence = undefined;
    else if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** The targets of the inline links and images of a Markdown text, outside code. */
function markdownLinks(markdown: string): string[] {
  return proseLines(markdown).flatMap((line) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1]),
  );
}

/** The anchors GitHub and npm give the headings of a Markdown text. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.+?)\s*#*$/.exec(line.replace(/`/g, ''))?.[1];
    if (!heading) continue;
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = slug;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${slug}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/**
 * Optional peers (and the dev-only packages of tests and the sample): the consumer app has none of them,
 * nor any package of OpenTelemetry (the optional @opentelemetry/api, and the SDK the tests use).
 */
const leftOut = (name: string): boolean => WITHOUT.has(name) || name.startsWith('@opentelemetry/');
const WITHOUT = new Set([
  '@nestjs/terminus',
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@nestjs/mercurius',
  '@apollo/server',
  '@as-integrations/express5',
  'mercurius',
  'graphql',
  'bullmq',
  'ioredis',
  '@nestjs/bullmq',
  'pg',
  '@nestjs/schedule',
  '@nestjs/event-emitter',
  '@nestjs/config',
  'class-validator',
  'class-transformer',
  'nestjs-cls',
  '@nestjs-cls/transactional',
  '@nestjs-cls/transactional-adapter-drizzle-orm',
  '@nestjs-cls/transactional-adapter-typeorm',
  'typeorm',
  'drizzle-orm',
]);

/** Links each package of `from` into `to`, scoped ones one by one, where `keep` says so. */
async function linkPackages(from: string, to: string, keep: (name: string) => boolean): Promise<void> {
  for (const entry of await readdir(from)) {
    if (entry.startsWith('.') || entry === 'nestjs-background-tasks') continue;
    if (!entry.startsWith('@')) {
      if (keep(entry)) await symlink(join(from, entry), join(to, entry), 'dir');
      continue;
    }
    await mkdir(join(to, entry), { recursive: true });
    for (const name of await readdir(join(from, entry))) {
      if (keep(`${entry}/${name}`)) await symlink(join(from, entry, name), join(to, entry, name), 'dir');
    }
  }
}
