import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { ExecutionJanitor } from '@conveyor/executions';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { WORKER_CONFIG } from '../worker-config.js';
import { sweepEachQueue } from './periodic.js';

/** Applies retention to the consumed queues every interval; a lock makes one worker do it per queue. */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop = () => {};

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly janitor: ExecutionJanitor,
  ) {}

  onApplicationBootstrap(): void {
    const { intervalMs, ...policy } = this.config.retention;
    this.stop = sweepEachQueue(this.config, this.redis, this.logger, {
      what: 'retention',
      intervalMs,
      lock: (queue) => this.keys.retentionLock(queue),
      sweep: async (queue) => {
        const removed = await this.janitor.applyRetention(queue, policy);
        if (removed > 0) this.logger.info({ queue, removed }, 'retention removed finished executions');
      },
    });
  }

  onApplicationShutdown(): void {
    this.stop();
  }
}
