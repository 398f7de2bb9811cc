import type { Redis } from 'ioredis';
import { RedisKeys } from '@conveyor/redis';
import { ExecutionActions } from './execution-actions.js';
import { ExecutionFinder } from './execution-finder.js';
import { ExecutionJanitor } from './execution-janitor.js';
import { ExecutionQueues } from './execution-queues.js';
import { ExecutionReader } from './execution-reader.js';
import { ExecutionStore } from './execution-store.js';
import { ExecutionSubmitter, type Durability } from './execution-submitter.js';

export interface ExecutionsCoreOptions {
  /** How long an idempotency key holds (default 24 h). */
  idempotencyTtlMs?: number;
  /** Replicas that must hold new executions before they are acknowledged (default none). */
  durability?: Durability;
  /** The connection of BullMQ's queues (default: `redis`); see `ExecutionQueues`. */
  queueRedis?: Redis;
}

const defaultIdempotencyTtlMs = 24 * 60 * 60 * 1000;

/** The execution core over a Redis connection (and its queues' own, if given): what services (and benchmarks) work with. */
export function createExecutionsCore(redis: Redis, prefix: string, options: ExecutionsCoreOptions = {}) {
  const keys = new RedisKeys(prefix);
  const queueRedis = options.queueRedis ?? redis;
  const store = new ExecutionStore(redis, keys, queueRedis);
  const queues = new ExecutionQueues(queueRedis, keys);
  const reader = new ExecutionReader(store, queues);
  return {
    keys,
    store,
    queues,
    reader,
    submitter: new ExecutionSubmitter(store, queues, reader, redis, keys, {
      idempotencyTtlMs: options.idempotencyTtlMs ?? defaultIdempotencyTtlMs,
      durability: options.durability ?? { replicas: 0, timeoutMs: 0 },
    }),
    actions: new ExecutionActions(store, reader, queues, redis, keys),
    finder: new ExecutionFinder(redis, keys, reader, store),
    janitor: new ExecutionJanitor(store, queues, keys, redis),
  };
}

export type ExecutionsCore = ReturnType<typeof createExecutionsCore>;
