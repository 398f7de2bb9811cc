import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ExecutionError } from '@conveyor/contracts';
import type { WorkerConfig } from '@conveyor/config';
import { ExecutionQueues, ExecutionStore } from '@conveyor/executions';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { WORKER_CONFIG } from '../worker-config.js';
import { endRemovedOutside } from './outside-changes.js';
import { sweepEachQueue } from './periodic.js';
import { finalFailure, TaskRunner, type ExecutionJob } from './task-runner.js';

const repairIntervalMs = 2_000;
/** How long a job may have ended before its own worker's record of it counts as lost. */
const ownRecordGraceMs = 1_000;
/** How many waiting executions a sweep checks for a removed job: a window that moves on each time. */
const waitingCheckBatch = 200;
/** A record is written (or queued again) before its job: since less than this, a missing job may still be on its way. */
const jobOnItsWayMs = 5_000;

/**
 * Records the endings that BullMQ stored but Conveyor did not: a worker of an earlier version, which
 * recorded an ending just after BullMQ stored it (this one records it in the same step, see
 * JobMovesWithEvents), leaves the record `running` if it dies in between; a job removed in Bull Board while no
 * worker's QueueEvents heard of it (a reconnect, a cluster's failover) leaves it `queued`. BullMQ's
 * completed and failed sets, and the job's absence, are the durable trace; every interval one worker
 * per queue finds such records and records the ending the way it would have been. The event is
 * written only while the record is still active, so it is written once, whoever gets there first.
 */
@Injectable()
export class UnrecordedEndings implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop = () => {};
  /** Per waiting index, the last id checked: the next sweep goes on from there, then starts over. */
  private readonly checkedUpTo = new Map<string, string>();

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
      const tasks = await this.store.tasksIn(queue, tenant);
      const running = await Promise.all(this.keys.statusIndexesOf(queue, tenant, 'running', tasks).map((index) => this.redis.zrange(index, '0', '-1')));
      for (const id of running.flat()) {
        const state = await jobs.getJobState(id);
        if (state !== 'completed' && state !== 'failed') continue;
        const job = await jobs.getJob(id);
        if (!job?.finishedOn || job.finishedOn > Date.now() - ownRecordGraceMs) continue;
        this.logger.warn({ executionId: id, queue, task: job.name, state }, 'recording an ending whose worker vanished');
        if (state === 'completed') await this.runner.completed(queue, job, job.returnvalue);
        else await this.runner.failed(queue, job, finalFailure(await this.failure(queue, job), job.attemptsMade));
      }
      for (const status of ['queued', 'scheduled'] as const) {
        for (const index of this.keys.statusIndexesOf(queue, tenant, status, tasks)) await this.endRemoved(queue, index);
      }
    }
  }

  /** Checks the next waiting executions of an index for a job that no longer exists. */
  private async endRemoved(queue: string, index: string): Promise<void> {
    const after = this.checkedUpTo.get(index);
    const ids = await this.redis.zrange(index, after ? `(${after}` : '-', '+', 'BYLEX', 'LIMIT', 0, waitingCheckBatch);
    if (ids.length < waitingCheckBatch) this.checkedUpTo.delete(index);
    else this.checkedUpTo.set(index, ids[ids.length - 1]);
    const exists = await Promise.all(ids.map((id) => this.queues.hasJob(queue, id)));
    for (const id of ids.filter((_, i) => !exists[i])) {
      const record = await this.store.read(queue, id);
      if (!record || Math.max(record.createdAt, record.runAt) > Date.now() - jobOnItsWayMs) continue;
      this.logger.warn({ executionId: id, queue, task: record.task }, 'ending an execution whose job was removed outside Conveyor');
      await endRemovedOutside(this.store, record);
    }
  }

  /** The error the worker stored before handing BullMQ the failure; BullMQ's reason if it stored none. */
  private async failure(queue: string, job: ExecutionJob): Promise<ExecutionError> {
    const recorded = (await this.store.read(queue, job.id!))?.error;
    // A record's error from an earlier attempt (announced with its retry) is not this failure's.
    return recorded?.message === job.failedReason ? recorded : { message: job.failedReason, name: 'Error', retryable: false };
  }
}
