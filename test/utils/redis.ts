import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeUnavailable } from './unavailable.js';

/**
 * Where the BullMQ suites get Redis: `REDIS_URL` when it is set, otherwise a
 * private `redis-server` from the PATH, on a Unix socket in a temp dir, with
 * nothing persisted. Without either, the suites are skipped (they fail under
 * `CI=true`, where `.ci/run` installs redis-server). The rest of the suite
 * never needs Redis.
 */

/** ioredis options for one Redis: a URL's parts, or a Unix socket. */
export interface RedisConnectionOptions {
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
}

export interface TestRedis {
  readonly connection: RedisConnectionOptions;
  /** A key prefix of its own, so that suites sharing a `REDIS_URL` never see each other's jobs. */
  readonly prefix: string;
}

/** A private `redis-server`, which a test may stop and start again (on the same socket). */
export interface PrivateRedis extends TestRedis {
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its temp dir. */
  dispose(): Promise<void>;
}

const HOW_TO_GET_REDIS =
  'needs Redis: `apt-get install redis-server` (the tests start a private one from the PATH), or set REDIS_URL';

const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * `describe`, with Redis: `redis()` gives it inside the tests. `privateServer`
 * asks for a server of the suite's own, which it may stop (REDIS_URL is not
 * enough then).
 */
export function describeWithRedis(
  name: string,
  body: (redis: () => TestRedis) => void,
  { privateServer = false }: { privateServer?: boolean } = {},
): void {
  const url = privateServer ? undefined : process.env.REDIS_URL;
  if (url === undefined && !hasRedisServer) {
    describeUnavailable(name, HOW_TO_GET_REDIS, 'redis-server is not on the PATH', () => body(() => undefined as never));
    return;
  }
  describe(name, () => {
    let current: TestRedis | PrivateRedis | undefined;
    beforeAll(async () => {
      current = url !== undefined ? { connection: fromUrl(url), prefix: uniquePrefix() } : await startPrivateRedis();
    }, 20_000);
    afterAll(async () => {
      if (current !== undefined && 'dispose' in current) await current.dispose();
    });
    body(() => current!);
  });
}

function uniquePrefix(): string {
  return `bt-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

function fromUrl(url: string): RedisConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
    ...(parsed.pathname.length > 1 && { db: Number(parsed.pathname.slice(1)) }),
  };
}

/** Starts a `redis-server` on a Unix socket in a temp dir, persisting nothing. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'bt-redis-'));
  const path = join(dir, 'redis.sock');
  let server: ChildProcess | undefined;

  const start = async () => {
    const child = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', path, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += String(chunk);
        if (/ready to accept connections/i.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
    // Drained from now on, or a full pipe would block the server.
    child.stdout.resume();
    child.stderr.resume();
  };

  const stop = async () => {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    connection: { path },
    prefix: uniquePrefix(),
    start,
    stop,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
