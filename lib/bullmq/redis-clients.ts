import { Redis, type RedisOptions } from 'ioredis';

/** What the module needs of an ioredis `Redis` or `Cluster`. */
export interface RedisClient {
  readonly status: string;
  duplicate(override?: RedisOptions): RedisClient;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  disconnect(): void;
}

/**
 * The enqueueing connection fails at once while Redis is away, instead of
 * queueing commands (BullMQ's `add()` would hang): no offline queue, and no
 * command resent after a reconnect, which could enqueue a task that already
 * ran in-process.
 */
const ENQUEUE_OVERRIDES: RedisOptions = { enableOfflineQueue: false, autoResendUnfulfilledCommands: false };

/** BullMQ's workers block on Redis, and need commands retried for ever. */
const WORKER_OVERRIDES: RedisOptions = { maxRetriesPerRequest: null };

/** A Redis client of the module's own, from ioredis options or an instance, which it duplicates. */
export function redisClient(connection: unknown, purpose: 'enqueue' | 'worker'): RedisClient {
  const overrides = purpose === 'enqueue' ? ENQUEUE_OVERRIDES : WORKER_OVERRIDES;
  if (isRedisClient(connection)) return connection.duplicate(overrides);
  const { url, ...options } = connection as RedisOptions & { url?: string };
  return url === undefined ? new Redis({ ...options, ...overrides }) : new Redis(url, { ...options, ...overrides });
}

function isRedisClient(connection: unknown): connection is RedisClient {
  return typeof (connection as RedisClient | undefined)?.duplicate === 'function';
}
