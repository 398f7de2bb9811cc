import type { Redis } from 'ioredis';
import {
  activeStatuses,
  ExecutionNotFoundError,
  ExecutionStateError,
  isTerminal,
  type ExecutionStatus,
  type ExecutionView,
  type TenantFilter,
} from '@conveyor/contracts';
import type { RedisKeys } from '@conveyor/redis';
import { keptAside, type ExecutionRecord, type ExecutionRef, type PendingAction } from './execution-record.js';
import type { ExecutionReader, LoadedExecution } from './execution-reader.js';
import type { ExecutionQueues } from './execution-queues.js';
import type { ExecutionStore } from './execution-store.js';

/** A request sent to the workers of a queue through its control channel. */
export interface ControlMessage {
  action: PendingAction;
  executionId: string;
}

/** How far in the future a parked job's delay is set: a sentinel that only `resume` ends, never a timer. */
export const parkedDelayMs = 10 * 365 * 24 * 60 * 60 * 1000;


/** What users do to executions that exist: cancel, pause, resume, retry, delete. */
export class ExecutionActions {
  constructor(
    private readonly store: ExecutionStore,
    private readonly reader: ExecutionReader,
    private readonly queues: ExecutionQueues,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Queued or scheduled: removed and `cancelled` at once. Running: the worker holding it is asked
   * to abort it (`pendingAction: 'cancel'` until it ends `cancelled`).
   */
  async cancel(id: string, tenant: TenantFilter, reason: string | null): Promise<ExecutionView> {
    const { ref, record, queue, job, status } = await this.load(id, tenant);
    if (isTerminal(status)) throw alreadyTerminal(id, status);
    // Marked first: whoever sees the job vanish or start knows Conveyor is cancelling it.
    await this.store.update(ref, { pendingAction: 'cancel', cancelReason: reason });
    if (status !== 'running' && job && (await queue.remove(id)) === 1) {
      const fields = { status: 'cancelled' as const, pendingAction: null, finishedAt: Date.now(), removedJob: keptAside(job) };
      await this.store.append(ref, 'execution.cancelled', { reason }, fields, activeStatuses);
    } else {
      // Running (or it started between our read and the removal): its worker ends it.
      await this.tellWorkers(ref, 'cancel');
    }
    return this.read(id, tenant, record);
  }

  /**
   * Running: parks at the handler's next checkpoint, freeing the worker slot (`pendingAction: 'pause'`
   * until then). Queued or scheduled: held back; the worker that picks it up parks it at once.
   */
  async pause(id: string, tenant: TenantFilter): Promise<ExecutionView> {
    const { ref, record, status } = await this.load(id, tenant);
    if (isTerminal(status)) throw alreadyTerminal(id, status);
    if (status === 'paused') throw new ExecutionStateError('already_paused', `Execution ${id} is already paused.`);
    if (status === 'running') {
      await this.store.update(ref, { pendingAction: 'pause' });
      await this.tellWorkers(ref, 'pause');
    } else {
      await this.store.append(ref, 'execution.paused', {}, { status: 'paused', pendingAction: 'pause' });
    }
    return this.read(id, tenant, record);
  }

  /** A paused execution is queued again and continues from its last checkpoint (a held-back scheduled one keeps its runAt). */
  async resume(id: string, tenant: TenantFilter): Promise<ExecutionView> {
    const { ref, record, job, status } = await this.load(id, tenant);
    if (status !== 'paused') throw new ExecutionStateError('not_paused', `Execution ${id} is ${status}, not paused.`);
    const now = Date.now();
    const stillAhead = record.runAt > now;
    const fromCheckpoint = (await this.store.readStartState(ref)).checkpoint !== undefined;
    await this.store.append(ref, 'execution.resumed', { fromCheckpoint }, { status: stillAhead ? 'scheduled' : 'queued', pendingAction: null });
    // A parked job waits on the sentinel delay: bring it back now. A held-back one was never parked.
    if (!stillAhead && job && (await job.getState()) === 'delayed') await job.promote();
    return this.read(id, tenant, record);
  }

  /** A failed or cancelled execution runs again: same id, attempts counted from zero, its event log continued. */
  async retry(id: string, tenant: TenantFilter): Promise<ExecutionView> {
    const { ref, record, job, status } = await this.load(id, tenant);
    if (status !== 'failed' && status !== 'cancelled') {
      throw new ExecutionStateError('not_retryable', `Execution ${id} is ${status}; only failed or cancelled executions can be retried.`);
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
      await this.queues.add(ref.queue, { id, name, data, opts: { ...opts, removeOnComplete: false, removeOnFail: false } });
    }
    return this.read(id, tenant, record);
  }

  /** Forgets a terminal execution: its job, record, events, logs and checkpoint. */
  async delete(id: string, tenant: TenantFilter): Promise<void> {
    const { record, job, status } = await this.load(id, tenant);
    if (!isTerminal(status)) {
      throw new ExecutionStateError('not_terminal', `Execution ${id} is ${status}; cancel it first, or wait until it ends.`);
    }
    await job?.remove();
    await this.store.forget(record);
  }

  private async tellWorkers(ref: ExecutionRef, action: PendingAction): Promise<void> {
    const message: ControlMessage = { action, executionId: ref.id };
    await this.redis.spublish(this.keys.controlChannel(ref.queue), JSON.stringify(message));
  }

  private async load(id: string, tenant: TenantFilter): Promise<LoadedExecution & { ref: ExecutionRef }> {
    const loaded = await this.reader.load(id, tenant);
    if (!loaded) throw new ExecutionNotFoundError(id);
    return { ...loaded, ref: loaded.record };
  }

  private async read(id: string, tenant: TenantFilter, record: ExecutionRecord): Promise<ExecutionView> {
    const view = await this.reader.get(id, tenant);
    if (!view) throw new ExecutionNotFoundError(record.id);
    return view;
  }
}

function alreadyTerminal(id: string, status: ExecutionStatus): ExecutionStateError {
  return new ExecutionStateError('already_terminal', `Execution ${id} already ended: it is ${status}.`);
}
