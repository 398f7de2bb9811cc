import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisConfig } from '@conveyor/config';
import { createRedis, REDIS, RedisKeys, waitForRedis, type RedisRole } from '@conveyor/redis';
import { ExecutionActions } from './execution-actions.js';
import { ExecutionFinder } from './execution-finder.js';
import { ExecutionJanitor } from './execution-janitor.js';
import { ExecutionQueues } from './execution-queues.js';
import { ExecutionReader } from './execution-reader.js';
import { ExecutionStore } from './execution-store.js';
import { ExecutionSubmitter } from './execution-submitter.js';
import { createExecutionsCore, type ExecutionsCore, type ExecutionsCoreOptions } from './executions-core.js';

/** The whole execution core, for modules built on it. */
export const EXECUTIONS_CORE = Symbol('EXECUTIONS_CORE');
const CORE = EXECUTIONS_CORE;
/** BullMQ's queues' own connection (see `ExecutionQueues`). */
const QUEUE_REDIS = Symbol('QUEUE_REDIS');

/** How long a service waits for Redis at start-up before it serves anyway (readiness then says 503). */
const startupRedisWaitMs = 5000;

/** Each part of the core, injectable by its class. */
const parts: [abstract new (...args: never[]) => unknown, keyof ExecutionsCore][] = [
  [RedisKeys, 'keys'],
  [ExecutionStore, 'store'],
  [ExecutionQueues, 'queues'],
  [ExecutionReader, 'reader'],
  [ExecutionSubmitter, 'submitter'],
  [ExecutionActions, 'actions'],
  [ExecutionFinder, 'finder'],
  [ExecutionJanitor, 'janitor'],
];

/** Provides the execution core (and its Redis connection, as `REDIS`) to a service. */
@Module({})
export class ExecutionsCoreModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queues: ExecutionQueues,
  ) {}

  static forRoot(redis: RedisConfig, role: RedisRole, options: ExecutionsCoreOptions = {}): DynamicModule {
    // Connected before the service announces `ready`, so that it is ready when it says so.
    const connect = async () => {
      // A worker's many ticks and runs in flight send their commands together, in one write each time.
      const connection = createRedis(redis, role, { autoPipelining: role === 'worker' });
      await waitForRedis(connection, startupRedisWaitMs).catch(() => undefined);
      return connection;
    };
    const providers = [
      { provide: REDIS, useFactory: connect },
      { provide: QUEUE_REDIS, useFactory: connect },
      {
        provide: CORE,
        inject: [REDIS, QUEUE_REDIS],
        useFactory: (connection: Redis, queueRedis: Redis) => createExecutionsCore(connection, redis.prefix, { durability: redis.durability, ...options, queueRedis }),
      },
      ...parts.map(([type, part]) => ({ provide: type, inject: [CORE], useFactory: (core: ExecutionsCore) => core[part] })),
    ];
    return { module: ExecutionsCoreModule, global: true, providers, exports: [REDIS, CORE, ...parts.map(([type]) => type)] };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
    this.queues.connection.disconnect();
  }
}
