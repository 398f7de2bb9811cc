import { Cluster, Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '@conveyor/config';

/**
 * - `request`: answers HTTP and socket.io requests; fails at once while Redis is down (→ 503).
 * - `worker`: keeps commands queued through an outage, as BullMQ workers require.
 * - `subscriber`: pub/sub; resubscribes by itself after a reconnect.
 */
/** Injection token of a process's shared Redis connection. */
export const REDIS = Symbol('REDIS');

export type RedisRole = 'request' | 'worker' | 'subscriber';

const roleOptions: Record<RedisRole, RedisOptions> = {
  request: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 5_000 },
  worker: { maxRetriesPerRequest: null },
  subscriber: { maxRetriesPerRequest: null },
};

export function connectionOptions(config: RedisConfig, role: RedisRole): RedisOptions {
  const url = new URL(config.url);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    connectionName: `conveyor-${role}`,
    ...roleOptions[role],
  };
}

/**
 * The scripts that record an execution's start and its events go out by themselves, in a write of
 * their own: a run sends them one at a time, and each auto-pipeline copies every script defined on its
 * connection, which costs a worker more than the write it saves (with Conveyor's 13 alone there, BullMQ's
 * queues on a connection of their own, still about 9 % more CPU per execution).
 */
const unpipelinedCommands = ['conveyorStartAttempt', 'conveyorAppendEvent'];

/**
 * A connection of `role`: to the single Redis of `url`, or to Redis Cluster when `clusterNodes` are
 * set. A `Cluster` answers the same commands as a `Redis` (and BullMQ takes either); every script,
 * transaction and pipeline Conveyor sends touches one hash tag, so one slot.
 */
export function createRedis(config: RedisConfig, role: RedisRole, { autoPipelining = false } = {}): Redis {
  // With auto-pipelining, commands sent in the same tick leave in one write.
  const pipelining = { enableAutoPipelining: autoPipelining, autoPipeliningIgnoredCommands: unpipelinedCommands };
  if (!config.clusterNodes) return new Redis({ ...connectionOptions(config, role), ...pipelining });
  const { host: _host, port: _port, enableOfflineQueue, ...redisOptions } = connectionOptions(config, role);
  const cluster = new Cluster(config.clusterNodes, {
    redisOptions,
    enableOfflineQueue,
    ...pipelining,
    // A request fails at once (503); a worker's commands wait out a failover (about 20 s) instead.
    ...(role === 'request' ? {} : { maxRedirections: 100, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, retryDelayOnTryAgain: 200 }),
    // Sharded pub/sub (SSUBSCRIBE) needs a subscriber per shard.
    shardedSubscribers: role === 'subscriber',
  });
  return cluster as unknown as Redis;
}

/** Resolves when the client is ready, or rejects after `timeoutMs` (the client keeps retrying). */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Errors that say Redis could not be reached, or is failing over — not that a command was wrong. */
const unavailable = /Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Command timed out|ECONNREFUSED|ECONNRESET|Too many Cluster redirections|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY/;

export function isRedisUnavailableError(error: unknown): boolean {
  return error instanceof Error && unavailable.test(error.message);
}

export function isRedisAvailable(redis: Redis): boolean {
  return redis.status === 'ready';
}

/** Runs a pipeline or transaction; its first failed command's error is thrown, else its replies in order. */
export async function execOrThrow(batch: ChainableCommander): Promise<unknown[]> {
  const results = (await batch.exec()) ?? [];
  const failure = results.find(([error]) => error)?.[0];
  if (failure) throw failure;
  return results.map(([, value]) => value);
}
