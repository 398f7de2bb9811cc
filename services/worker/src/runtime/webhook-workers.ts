import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { workerQueues } from '@conveyor/contracts';
import { EgressGuard } from '@conveyor/egress';
import { createRedis, REDIS, RedisKeys } from '@conveyor/redis';
import { ScheduleStore } from '@conveyor/schedules';
import { LOGGER, type Logger } from '@conveyor/service';
import { deliveryBackoff, WebhookRelay, WebhookSender, WebhookStore, type DeliveryJobData } from '@conveyor/webhooks';
import { WORKER_CONFIG } from '../worker-config.js';
import { lockDurationMs, maxStalledCount, stalledIntervalMs } from './worker-pool.js';

const deliveryConcurrency = 20;

/**
 * Outbound webhooks, in every worker whatever queues it consumes, so that no queue's outbox waits for
 * a worker of its own: the relay (outbox → delivery jobs) and the worker that sends them.
 */
@Injectable()
export class WebhookWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: { relay: WebhookRelay; worker: Worker<DeliveryJobData>; queue: Queue<DeliveryJobData>; connections: Redis[] } | null = null;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly schedules: ScheduleStore,
  ) {}

  onApplicationBootstrap(): void {
    const { webhooks, egress, redis: redisConfig } = this.config;
    const store = new WebhookStore(this.redis, this.keys);
    const connections = [createRedis(redisConfig, 'worker'), createRedis(redisConfig, 'worker')];
    const name = this.keys.webhookDeliveryQueue();
    const queue = new Queue<DeliveryJobData>(name, { connection: connections[0], prefix: this.keys.prefix });
    const guard = new EgressGuard({ allowedHosts: webhooks.allowedHosts, ...egress, hostsSetting: 'WEBHOOK_ALLOWED_HOSTS', logger: this.logger });
    const sender = new WebhookSender(store, guard, webhooks);
    const worker = new Worker<DeliveryJobData>(name, (job) => sender.attempt(job), {
      connection: connections[1],
      prefix: this.keys.prefix,
      concurrency: deliveryConcurrency,
      // The executions' locks: a killed worker's delivery is sent again by another within about 15 s.
      lockDuration: lockDurationMs,
      stalledInterval: stalledIntervalMs,
      maxStalledCount,
      settings: { backoffStrategy: (attempts, _type, error, job) => deliveryBackoff(attempts, error, job as Job<DeliveryJobData>, webhooks) },
    });
    worker.on('error', (err) => this.logger.error({ err }, 'webhook delivery worker error'));
    const relay = new WebhookRelay(redisConfig, this.keys, store, this.schedules, queue, webhooks.retryHorizonMs, this.logger);
    relay.start(workerQueues);
    this.running = { relay, worker, queue, connections };
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    const { relay, worker, queue, connections } = this.running;
    await Promise.all([relay.stop(), worker.close(), queue.close()]);
    for (const connection of connections) connection.disconnect();
  }
}
