import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { isId, scheduleQueue } from '@conveyor/contracts';
import { createRedis, REDIS, RedisKeys } from '@conveyor/redis';
import { ScheduleService, ScheduleTicks, tickTime, type TickJobData } from '@conveyor/schedules';
import { LOGGER, type Logger } from '@conveyor/service';
import { tracing } from '@conveyor/tracing';
import { WORKER_CONFIG } from '../worker-config.js';
import { onceAnInterval, repeat } from './periodic.js';

/** How often one of the workers running ticks reconciles them with the schedules' records. */
const reconcileIntervalMs = 10_000;
const notReconciled = 'schedule ticks not reconciled; trying again next interval';

/**
 * Runs schedule ticks, when this worker consumes the schedule queue, and reconciles them with the
 * schedules' records at start-up and then every interval (one worker at a time), so that a schedule
 * whose ticks a failed write or a hand in Bull Board lost gets them back within seconds.
 */
@Injectable()
export class TickWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: { worker: Worker<TickJobData>; connection: Redis; reconciler: NodeJS.Timeout } | null = null;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ticks: ScheduleTicks,
    private readonly schedules: ScheduleService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.queues.includes(scheduleQueue)) return;
    const connection = createRedis(this.config.redis, 'worker');
    const worker = new Worker<TickJobData>(
      this.keys.bullQueueName(scheduleQueue),
      async (job) => {
        // A tick added by hand may carry anything: only a schedule id reaches a key name.
        const scheduleId = String(job.data?.scheduleId);
        if (!isId('schedule', scheduleId)) throw new UnrecoverableError(`Tick data names no schedule id (sch_<ULID>): ${scheduleId}`);
        await this.ticks.fire(scheduleId, tickTime(job), false);
      },
      // With tracing on, each tick starts a trace that the executions it submits continue.
      { connection, prefix: this.keys.prefix, concurrency: this.config.tickConcurrency, telemetry: tracing().bullmq },
    );
    worker.on('failed', (job, err) => this.logger.error({ err, scheduleId: job?.data?.scheduleId }, 'tick failed'));
    worker.on('error', (err) => this.logger.error({ err }, 'tick worker error'));
    // The first pass at once, beside the ticks (not before them).
    const reconciler = repeat(reconcileIntervalMs, () => this.reconcile(), (err) => this.logger.warn({ err }, notReconciled), { atOnce: true });
    this.running = { worker, connection, reconciler };
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    clearInterval(this.running.reconciler);
    await this.running.worker.close();
    this.running.connection.disconnect();
  }

  /** A pass by the worker that takes this interval's lock (held a little less than the interval, so that the next one finds it free). */
  private reconcile(): Promise<void> {
    return onceAnInterval(this.redis, this.keys.scheduleReconcileLock(scheduleQueue), reconcileIntervalMs - 1_000, async () => {
      const { failures, ...counts } = await this.schedules.reconcile();
      if (Object.values(counts).some((count) => count > 0)) this.logger.info(counts, 'reconciled the ticks of schedules with their records');
      for (const { scheduleId, error } of failures) this.logger.warn({ err: error, scheduleId }, notReconciled);
    });
  }
}
