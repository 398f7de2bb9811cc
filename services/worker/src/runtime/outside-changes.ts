import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { activeStatuses, isId, isTerminal, type ExecutionError } from '@conveyor/contracts';
import type { WorkerConfig } from '@conveyor/config';
import { ExecutionQueues, ExecutionStore, type ExecutionRecord } from '@conveyor/executions';
import { createRedis, REDIS, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { executionQueuesOf, WORKER_CONFIG } from '../worker-config.js';
import { whileLeased } from './periodic.js';

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

/** How long a worker holds the reading of a queue's outside changes without renewing it (a third of it between renewals). */
const readerLeaseMs = 10_000;
/** How often the reader stores how far it has handled the queue's events. */
const progressSaveMs = 1_000;

/**
 * Turns what happens to jobs outside Conveyor (Bull Board, BullMQ's stall handling, a runAt reached)
 * into Conveyor's record and events. One worker of those consuming a queue reads its BullMQ events at
 * a time, under a lease, and stores how far it has handled them: another takes over from there once
 * the lease lapses (its worker gone), so a change made meanwhile is handled late, not lost (unless
 * BullMQ trimmed its event first: it keeps about a queue's last 10,000). Each
 * change is guarded by the status it expects, so one handled twice (by two readers for a moment, or
 * again after a takeover) is applied once, and Conveyor's own actions (which change the status
 * first) are never reported twice.
 */
@Injectable()
export class OutsideChanges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly readers: (() => Promise<void>)[] = [];

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly queues: ExecutionQueues,
    private readonly store: ExecutionStore,
  ) {}

  onApplicationBootstrap(): void {
    for (const queue of executionQueuesOf(this.config)) {
      const onError = (err: unknown) => this.logger.warn({ err, queue }, 'could not take or keep the reading of outside changes; trying again');
      this.readers.push(whileLeased(this.redis, this.keys.outsideChangesReader(queue), readerLeaseMs, (ended) => this.read(queue, ended), onError));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.readers.map((stop) => stop()));
  }

  /**
   * Reads the queue's BullMQ events from where the last reader's handling ended (new ones only, the
   * first time); returns what stops it, and says when its reading `ended` by itself.
   */
  private async read(queue: string, ended: () => void): Promise<() => Promise<void>> {
    const progressKey = this.keys.outsideChangesRead(queue);
    const from = (await this.redis.get(progressKey)) ?? undefined;
    const connection = createRedis(this.config.redis, 'worker');
    const events = new QueueEvents(this.keys.bullQueueName(queue), { connection, prefix: this.keys.prefix, lastEventId: from, autorun: false });
    const progress = new HandledEvents(from);
    const handle = (what: string, jobId: string, eventId: string, work: (() => Promise<unknown>) | null) => {
      // A job under another id (added by hand) has no record: no key is built from its id.
      if (!work || !isId('execution', jobId)) return progress.pass(eventId);
      progress.begin(eventId);
      work()
        .catch((err) => this.logger.warn({ err, executionId: jobId, queue }, `could not record ${what} done outside Conveyor`))
        .finally(() => progress.end(eventId));
    };
    events.on('waiting', ({ jobId, prev }, id) => {
      const outside = prev === 'delayed' || prev === 'failed' || prev === 'completed';
      handle('a move to waiting', jobId, id, outside ? () => this.waiting(queue, jobId, prev) : null);
    });
    events.on('removed', ({ jobId }, id) => handle('a removal', jobId, id, () => this.removed(queue, jobId, id)));
    events.on('failed', ({ jobId, failedReason }, id) => handle('a failure', jobId, id, () => this.failed(queue, jobId, failedReason)));
    events.on('error', (err) => this.logger.warn({ err, queue }, 'queue events error'));
    let saved = from;
    const save = async () => {
      const upTo = progress.upTo;
      if (upTo === saved) return;
      await this.redis.set(progressKey, upTo!);
      saved = upTo;
    };
    const saver = setInterval(() => save().catch((err) => this.logger.warn({ err, queue }, 'could not store how far outside changes are handled')), progressSaveMs);
    saver.unref();
    // Its loop ends only as it is closed, or on an error it does not retry: the lease then goes to whoever reads on.
    let stopping = false;
    events.run().catch((err: unknown) => {
      if (stopping) return;
      this.logger.warn({ err, queue }, 'stopped reading outside changes');
      ended();
    });
    this.logger.info({ queue, from: from ?? 'new events' }, 'reading outside changes');
    return async () => {
      stopping = true;
      clearInterval(saver);
      await events.close();
      connection.disconnect();
      await save().catch(() => undefined);
    };
  }

  /** A delayed job came due (not an event), or an ended one was retried in Bull Board. */
  private async waiting(queue: string, id: string, prev: string): Promise<void> {
    const record = await this.store.read(queue, id);
    if (!record) return;
    if (prev === 'delayed') {
      // Heard late (a reader taking over), the job may be delayed again since (a retry's backoff).
      if (record.status !== 'scheduled' || !waitingStates.has(await this.queues.get(queue).getJobState(id))) return;
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

  /** A job removed, by the stream event `eventId`: a waiting execution's, unless its record was queued again since. */
  private async removed(queue: string, id: string, eventId: string): Promise<void> {
    // Conveyor's own cancel-then-retry removes the job and adds it again just after the record turns
    // `queued`: the removal it reports late must not end the retried run.
    await new Promise((resolve) => setTimeout(resolve, ownReportGraceMs));
    if (await this.queues.hasJob(queue, id)) return;
    const record = await this.store.read(queue, id);
    // Heard later still (a reader taking over), it may come as a retried run's job is on its way. A
    // retry queues the record and dates its runAt: a removal before that was of the job before. Should
    // that job never come, the endings repair ends the run (it checks queued executions' jobs).
    if (!record || (record.status === 'queued' && removedBefore(eventId, record.runAt))) return;
    await endRemovedOutside(this.store, record);
  }

  /** A job failed without its worker saying so (e.g. BullMQ gave up on it after too many stalls). */
  private async failed(queue: string, id: string, reason: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ownReportGraceMs));
    const record: ExecutionRecord | null = await this.store.read(queue, id);
    if (!record || !activeStatuses.includes(record.status)) return;
    // Heard late (a reader taking over), the job may have been retried since: its failure is over.
    if ((await this.queues.get(queue).getJobState(id)) !== 'failed') return;
    const error: ExecutionError = { message: reason, name: 'Error', retryable: false };
    const fields = { status: 'failed' as const, error, finishedAt: Date.now() };
    await this.store.append(record, 'execution.failed', { error, attempt: record.attemptsMade, willRetry: false }, fields, activeStatuses);
  }
}

/**
 * Whether the event `eventId` of a queue's stream (`<ms>-<n>`, by Redis's clock) came before `runAt` (by
 * the clock of the service that set it: a skew between them moves the mark by as much).
 */
function removedBefore(eventId: string, runAt: number): boolean {
  return Number(eventId.split('-')[0]) < runAt;
}

/**
 * How far a reader has handled a stream's events, which it handles concurrently: up to the last event
 * before the oldest one still being handled. The next reader starts after that one, so an event whose
 * handling a dead reader had not finished is handled again.
 */
class HandledEvents {
  /** Ids of the events being handled, in the stream's order. */
  private readonly handling: string[] = [];
  /** Those of them handled already, behind one that is not. */
  private readonly handled = new Set<string>();

  constructor(public upTo: string | undefined) {}

  begin(id: string): void {
    this.handling.push(id);
  }

  /** An event with nothing to handle. */
  pass(id: string): void {
    if (this.handling.length === 0) this.upTo = id;
    else {
      this.handling.push(id);
      this.handled.add(id);
    }
  }

  end(id: string): void {
    this.handled.add(id);
    while (this.handling.length > 0 && this.handled.delete(this.handling[0])) this.upTo = this.handling.shift();
  }
}
