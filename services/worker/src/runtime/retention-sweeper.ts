import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { ExecutionJanitor } from '@conveyor/executions';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { executionQueuesOf, WORKER_CONFIG } from '../worker-config.js';

/** Applies retention to the consumed queues every interval; a lock makes one worker do it per queue. */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly janitor: ExecutionJanitor,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.retention.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    const { intervalMs, ...policy } = this.config.retention;
    for (const queue of executionQueuesOf(this.config)) {
      try {
        const mine = await this.redis.set(this.keys.retentionLock(queue), randomUUID(), 'PX', intervalMs, 'NX');
        if (!mine) continue;
        const removed = await this.janitor.applyRetention(queue, policy);
        if (removed > 0) this.logger.info({ queue, removed }, 'retention removed finished executions');
      } catch (err) {
        this.logger.warn({ err, queue }, 'retention failed; trying again next interval');
      }
    }
  }
}
