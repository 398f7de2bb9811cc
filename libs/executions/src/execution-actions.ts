import type { Redis } from 'ioredis';
import { isTerminal, type ExecutionStatus, type ExecutionView } from '@conveyor/contracts';
import type { RedisKeys } from '@conveyor/redis';
import { ApiError } from '@conveyor/service';
import type { ExecutionRecord, ExecutionRef, RemovedJob } from './execution-record.js';
import type { ExecutionQueue, ExecutionQueues } from './execution-queues.js';
import type { ExecutionReader } from './execution-reader.js';
import type { ExecutionStore } from './execution-store.js';
import { deriveStatus } from './execution-view.js';

/** A request sent to the workers of a queue through its control channel. */
export interface ControlMessage {
  action: 'cancel';
  executionId: string;
}

interface Loaded {
  ref: ExecutionRef;
  record: ExecutionRecord;
  queue: ExecutionQueue;
  job: Awaited<ReturnType<ExecutionQueue['getJob']>>;
  status: ExecutionStatus;
}

/** What users do to executions that exist: cancel, retry, delete. */
export class ExecutionActions {
  constructor(
    private readonly store: ExecutionStore,
    private readonly queues: ExecutionQueues,
    private readonly reader: ExecutionReader,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Queued or scheduled: removed and `cancelled` at once. Running: the worker holding it is asked
   * to abort it (`pendingAction: 'cancel'` until it ends `cancelled`).
   */
  async cancel(id: string, tenant: string, reason: string | null): Promise<ExecutionView> {
    const { ref, record, queue, job, status } = await this.load(id, tenant);
    if (isTerminal(status)) throw alreadyTerminal(id, status);
    if (status !== 'running' && job && (await queue.remove(id)) === 1) {
      const removedJob: RemovedJob = { name: job.name, data: job.data, opts: { priority: job.opts.priority, attempts: job.opts.attempts, backoff: job.opts.backoff } };
      await this.store.append(ref, 'execution.cancelled', { reason }, {
        status: 'cancelled',
        cancelReason: reason,
        pendingAction: null,
        finishedAt: Date.now(),
        removedJob,
      });
    } else {
      // Running (or it started between our read and the removal): its worker ends it.
      await this.store.update(ref, { pendingAction: 'cancel', cancelReason: reason });
      const message: ControlMessage = { action: 'cancel', executionId: id };
      await this.redis.publish(this.keys.controlChannel(ref.queue), JSON.stringify(message));
    }
    return this.read(id, tenant, record);
  }

  /** A failed or cancelled execution runs again: same id, attempts counted from zero, its event log continued. */
  async retry(id: string, tenant: string): Promise<ExecutionView> {
    const { ref, record, queue, job, status } = await this.load(id, tenant);
    if (status !== 'failed' && status !== 'cancelled') {
      throw new ApiError(409, 'not_retryable', `Execution ${id} is ${status}; only failed or cancelled executions can be retried.`);
    }
    const now = Date.now();
    // The event comes first, so that the worker's `execution.started` follows it.
    await this.store.append(ref, 'execution.retried', {}, {
      status: 'queued',
      attemptsMade: 0,
      error: null,
      pendingAction: null,
      cancelReason: null,
      finishedAt: null,
      runAt: now,
      removedJob: null,
    });
    if (job) {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } else if (record.removedJob) {
      const { name, data, opts } = record.removedJob;
      await queue.add(name, data, { ...opts, jobId: id, removeOnComplete: false, removeOnFail: false });
    }
    return this.read(id, tenant, record);
  }

  /** Forgets a terminal execution: its job, record, events, logs and checkpoint. */
  async delete(id: string, tenant: string): Promise<void> {
    const { ref, job, status } = await this.load(id, tenant);
    if (!isTerminal(status)) {
      throw new ApiError(409, 'not_terminal', `Execution ${id} is ${status}; cancel it first, or wait until it ends.`);
    }
    await job?.remove();
    await this.store.forget(ref);
  }

  private async load(id: string, tenant: string): Promise<Loaded> {
    const location = await this.store.locate(id);
    if (!location || location.tenant !== tenant) throw ApiError.notFound(`Execution ${id}`);
    const queue = this.queues.get(location.queue);
    const [record, job, state] = await Promise.all([this.store.read(location.queue, id), queue.getJob(id), queue.getJobState(id)]);
    if (!record) throw ApiError.notFound(`Execution ${id}`);
    return { ref: record, record, queue, job, status: deriveStatus(state, record) };
  }

  private async read(id: string, tenant: string, record: ExecutionRecord): Promise<ExecutionView> {
    const view = await this.reader.get(id, tenant);
    if (!view) throw ApiError.notFound(`Execution ${record.id}`);
    return view;
  }
}

function alreadyTerminal(id: string, status: ExecutionStatus): ApiError {
  return new ApiError(409, 'already_terminal', `Execution ${id} already ended: it is ${status}.`);
}
