import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisConfig } from '@conveyor/config';
import { createRedis, REDIS, RedisKeys, type RedisRole } from '@conveyor/redis';
import { ExecutionActions } from './execution-actions.js';
import { ExecutionQueues } from './execution-queues.js';
import { ExecutionReader } from './execution-reader.js';
import { ExecutionStore } from './execution-store.js';
import { ExecutionSubmitter } from './execution-submitter.js';

/** Wires the execution core (store, queues, reader, submitter) over one Redis connection. */
@Module({})
export class ExecutionsCoreModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queues: ExecutionQueues,
  ) {}

  static forRoot(redis: RedisConfig, role: RedisRole): DynamicModule {
    const providers = [
      { provide: REDIS, useFactory: () => createRedis(redis, role) },
      { provide: RedisKeys, useFactory: () => new RedisKeys(redis.prefix) },
      { provide: ExecutionStore, inject: [REDIS, RedisKeys], useFactory: (r: Redis, k: RedisKeys) => new ExecutionStore(r, k) },
      { provide: ExecutionQueues, inject: [REDIS, RedisKeys], useFactory: (r: Redis, k: RedisKeys) => new ExecutionQueues(r, k) },
      {
        provide: ExecutionReader,
        inject: [ExecutionStore, ExecutionQueues],
        useFactory: (s: ExecutionStore, q: ExecutionQueues) => new ExecutionReader(s, q),
      },
      {
        provide: ExecutionActions,
        inject: [ExecutionStore, ExecutionQueues, ExecutionReader, REDIS, RedisKeys],
        useFactory: (s: ExecutionStore, q: ExecutionQueues, r: ExecutionReader, redis: Redis, k: RedisKeys) =>
          new ExecutionActions(s, q, r, redis, k),
      },
      {
        provide: ExecutionSubmitter,
        inject: [ExecutionStore, ExecutionQueues],
        useFactory: (s: ExecutionStore, q: ExecutionQueues) => new ExecutionSubmitter(s, q),
      },
    ];
    return { module: ExecutionsCoreModule, global: true, providers, exports: providers.map((p) => p.provide) };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
  }
}
