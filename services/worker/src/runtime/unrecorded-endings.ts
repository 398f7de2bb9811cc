import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ExecutionError } from '@conveyor/contracts';
import type { WorkerConfig } from '@conveyor/config';
import { ExecutionQueues, ExecutionStore } from '@conveyor/executions';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { WORKER_CONFIG } from '../worker-config.js';
import { sweepEachQueue } from './sweep-each-queue.js';
import { finalFailure, TaskRunner, type ExecutionJob } from './task-runner.js';

const repairIntervalMs = 2_000;
/** How long a job may have ended before its own worker's record of it counts as lost. */
const ownRecordGraceMs = 1_000;

/**
 * Records the endings that BullMQ stored but Conveyor did not: a worker that dies right after BullMQ
 * completed or failed its job leaves the record `running`. BullMQ's completed and failed sets are the
 * durable trace; every interval one worker per queue finds such records and records the ending the
 * way their own worker would have. The event is written only while the record is still active, so
 * it is written once, whoever gets there first.
 */
@Injectable()
export class UnrecordedEndings implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop = () => {};

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly queues: ExecutionQueues,
    private readonly store: ExecutionStore,
    private readonly runner: TaskRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = sweepEachQueue(this.config, this.redis, this.logger, {
      what: 'repairing unrecorded endings',
      intervalMs: repairIntervalMs,
      lock: (queue) => this.keys.endingsRepairLock(queue),
      sweep: (queue) => this.repair(queue),
    });
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  /** Looks at the queue's running executions (about as many as its workers' slots); only ended jobs are read. */
  private async repair(queue: string): Promise<void> {
    const jobs = this.queues.get(queue);
    for (const tenant of await this.store.tenantsIn(queue)) {
      for (const id of await this.redis.zrange(this.keys.index(queue, tenant, 'status', 'running'), '0', '-1')) {
        const state = await jobs.getJobState(id);
        if (state !== 'completed' && state !== 'failed') continue;
        const job = await jobs.getJob(id);
        if (!job?.finishedOn || job.finishedOn > Date.now() - ownRecordGraceMs) continue;
        this.logger.warn({ executionId: id, queue, state }, 'recording an ending whose worker vanished');
        if (state === 'completed') await this.runner.completed(queue, job, job.returnvalue);
        else await this.runner.failed(queue, job, finalFailure(await this.failure(queue, job), job.attemptsMade));
      }
    }
  }

  /** The error the worker stored before handing BullMQ the failure; BullMQ's reason if it stored none. */
  private async failure(queue: string, job: ExecutionJob): Promise<ExecutionError> {
    const recorded = (await this.store.read(queue, job.id!))?.error;
    // A record's error from an earlier attempt (announced with its retry) is not this failure's.
    return recorded?.message === job.failedReason ? recorded : { message: job.failedReason, name: 'Error', retryable: false };
  }
}
