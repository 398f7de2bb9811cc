import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { activeStatuses, isId, isTerminal, type ExecutionError } from '@conveyor/contracts';
import type { WorkerConfig } from '@conveyor/config';
import { ExecutionQueues, ExecutionStore, type ExecutionRecord } from '@conveyor/executions';
import { createRedis, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { executionQueuesOf, WORKER_CONFIG } from '../worker-config.js';

/** A job removed outside Conveyor (Bull Board): its waiting execution ends cancelled, once, whoever notices. */
export async function endRemovedOutside(store: ExecutionStore, record: ExecutionRecord): Promise<void> {
  if (record.pendingAction === 'cancel') return;
  const fields = { status: 'cancelled' as const, cancelReason: removedOutsideReason, pendingAction: null, finishedAt: Date.now() };
  await store.append(record, 'execution.cancelled', { reason: removedOutsideReason }, fields, activeStatuses);
}

/** How long Conveyor's own record of a change may trail BullMQ's event (a final failure, a retry's new job) before the event counts as someone else's doing. */
const ownReportGraceMs = 1_000;

export const removedOutsideReason = 'removed outside Conveyor';

/** Where a retried job waits for a worker. */
const waitingStates = new Set<string>(['waiting', 'prioritized']);

/**
 * Turns what happens to jobs outside Conveyor (Bull Board, BullMQ's stall handling, a runAt reached)
 * into Conveyor's record and events. Every worker listens; each change is guarded by the status it
 * expects, so exactly one of them applies it, and Conveyor's own actions (which change the status
 * first) are never reported twice.
 */
@Injectable()
export class OutsideChanges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly listeners: { events: QueueEvents; connection: Redis }[] = [];

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: RedisKeys,
    private readonly queues: ExecutionQueues,
    private readonly store: ExecutionStore,
  ) {}

  onApplicationBootstrap(): void {
    for (const queue of executionQueuesOf(this.config)) {
      const connection = createRedis(this.config.redis, 'worker');
      const events = new QueueEvents(this.keys.bullQueueName(queue), { connection, prefix: this.keys.prefix });
      const handle = (what: string, jobId: string, work: () => Promise<unknown>) => {
        // A job under another id (added by hand) has no record: no key is built from its id.
        if (!isId('execution', jobId)) return;
        work().catch((err) => this.logger.warn({ err, executionId: jobId, queue }, `could not record ${what} done outside Conveyor`));
      };
      events.on('waiting', ({ jobId, prev }) => {
        if (prev === 'delayed' || prev === 'failed' || prev === 'completed') handle('a move to waiting', jobId, () => this.waiting(queue, jobId, prev));
      });
      events.on('removed', ({ jobId }) => handle('a removal', jobId, () => this.removed(queue, jobId)));
      events.on('failed', ({ jobId, failedReason }) => handle('a failure', jobId, () => this.failed(queue, jobId, failedReason)));
      events.on('error', (err) => this.logger.warn({ err, queue }, 'queue events error'));
      this.listeners.push({ events, connection });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.listeners.map(async ({ events, connection }) => {
      await events.close();
      connection.disconnect();
    }));
  }

  /** A delayed job came due (not an event), or an ended one was retried in Bull Board. */
  private async waiting(queue: string, id: string, prev: string): Promise<void> {
    const record = await this.store.read(queue, id);
    if (!record) return;
    if (prev === 'delayed') {
      await this.store.update(record, { status: 'queued' }, ['scheduled']);
      return;
    }
    // Conveyor's own retry announced it before its job moved, and a worker that picked the job up
    // announced it as it started (heard late, the retried run may even have ended): only a job still
    // waiting for a worker is left to announce, unless one picks it up meanwhile (its record changes).
    if (!isTerminal(record.status) || !waitingStates.has(await this.queues.get(queue).getJobState(id))) return;
    const fields = { status: 'queued' as const, attemptsMade: 0, error: null, finishedAt: null, pendingAction: null, cancelReason: null };
    await this.store.appendUnlessChanged(record, 'execution.retried', {}, fields);
  }

  private async removed(queue: string, id: string): Promise<void> {
    // Conveyor's own cancel-then-retry removes the job and adds it again just after the record turns
    // `queued`: the removal it reports late must not end the retried run.
    await new Promise((resolve) => setTimeout(resolve, ownReportGraceMs));
    if (await this.queues.hasJob(queue, id)) return;
    const record = await this.store.read(queue, id);
    if (record) await endRemovedOutside(this.store, record);
  }

  /** A job failed without its worker saying so (e.g. BullMQ gave up on it after too many stalls). */
  private async failed(queue: string, id: string, reason: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ownReportGraceMs));
    const record: ExecutionRecord | null = await this.store.read(queue, id);
    if (!record || !activeStatuses.includes(record.status)) return;
    const error: ExecutionError = { message: reason, name: 'Error', retryable: false };
    const fields = { status: 'failed' as const, error, finishedAt: Date.now() };
    await this.store.append(record, 'execution.failed', { error, attempt: record.attemptsMade, willRetry: false }, fields, activeStatuses);
  }
}
