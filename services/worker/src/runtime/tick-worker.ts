import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { isId, scheduleQueue } from '@conveyor/contracts';
import { createRedis, RedisKeys } from '@conveyor/redis';
import { ScheduleService, ScheduleTicks, type TickJobData } from '@conveyor/schedules';
import { LOGGER, type Logger } from '@conveyor/service';
import { tracing } from '@conveyor/tracing';
import { WORKER_CONFIG } from '../worker-config.js';

/** The due time of a tick: a scheduler's iteration id ends with it (a one-off tick's is its schedule's `at`). */
export function tickTime(job: Pick<Job, 'id' | 'timestamp'>): number {
  const iteration = /:(\d+)$/.exec(job.id ?? '');
  return iteration ? Number(iteration[1]) : job.timestamp;
}

/** Runs schedule ticks, when this worker consumes the schedule queue. */
@Injectable()
export class TickWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: { worker: Worker<TickJobData>; connection: Redis } | null = null;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: RedisKeys,
    private readonly ticks: ScheduleTicks,
    private readonly schedules: ScheduleService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.queues.includes(scheduleQueue)) return;
    const registered = await this.schedules.reconcile();
    if (registered > 0) this.logger.info({ registered }, 'registered the ticks of schedules that had none');
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
    this.running = { worker, connection };
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    await this.running.worker.close();
    this.running.connection.disconnect();
  }
}
