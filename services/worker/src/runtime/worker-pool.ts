import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { createRedis, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { WORKER_CONFIG } from '../worker-config.js';
import { plannedRetryDelay, TaskRunner, type ExecutionJob } from './task-runner.js';

/** One BullMQ worker per consumed queue, all running jobs through the TaskRunner. */
@Injectable()
export class WorkerPool implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers: { worker: Worker; connection: Redis }[] = [];

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: RedisKeys,
    private readonly runner: TaskRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.workers = this.config.queues.map((queue) => this.startWorker(queue));
  }

  /** Stops taking work, lets running handlers finish within the grace period, then parks the rest. */
  async onApplicationShutdown(): Promise<void> {
    const closing = Promise.all(
      this.workers.map(async ({ worker, connection }) => {
        await worker.close();
        // The worker was given its connection, so it does not close it.
        connection.disconnect();
      }),
    );
    const finishedInTime = await Promise.race([closing.then(() => true), delay(this.config.shutdownGraceMs).then(() => false)]);
    if (!finishedInTime) {
      this.logger.warn({ graceMs: this.config.shutdownGraceMs }, 'grace period over: queueing running executions again');
      this.workers.forEach(({ worker }) => worker.cancelAllJobs('shutdown'));
      await closing;
    }
  }

  private startWorker(queue: string): { worker: Worker; connection: Redis } {
    const connection = createRedis(this.config.redis, 'worker');
    const worker = new Worker(
      this.keys.bullQueueName(queue),
      // Three parameters: BullMQ only passes an AbortSignal to processors that declare it.
      (job: ExecutionJob, token?: string, signal?: AbortSignal) => this.runner.process(queue, job, token, signal),
      {
        connection,
        prefix: this.keys.prefix,
        concurrency: this.config.concurrency,
        settings: { backoffStrategy: (_attempts, _type, error) => plannedRetryDelay(error) },
      },
    );
    const report = (what: string) => (err: unknown) => this.logger.error({ err, queue }, what);
    worker.on('completed', (job: ExecutionJob, result: unknown) => {
      this.runner.completed(queue, job, result).catch(report('completion not recorded'));
    });
    worker.on('failed', (job: ExecutionJob | undefined, error: Error) => {
      if (job) this.runner.failed(queue, job, error).catch(report('failure not recorded'));
    });
    worker.on('error', report('worker error'));
    return { worker, connection };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
