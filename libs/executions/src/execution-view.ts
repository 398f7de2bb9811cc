import type { JobState } from 'bullmq';
import { isTerminal, type ExecutionError, type ExecutionStatus, type ExecutionView, type WaitingFor } from '@conveyor/contracts';
import type { ExecutionRecord } from './execution-record.js';

/** The record's fields a status is derived from: `statusOf` reads these alone. */
export const statusFields = ['status', 'waitingFor', 'pendingAction'] as const;
export type StatusFields = Pick<ExecutionRecord, (typeof statusFields)[number]>;

/**
 * The status a client reads: BullMQ's job state, refined by what only Conveyor knows, so that
 * actions taken outside Conveyor (Bull Board, BullMQ's stall handling) never leave it wrong.
 */
export function deriveStatus(state: JobState | 'unknown', record: StatusFields): ExecutionStatus {
  switch (state) {
    case 'completed':
      return 'completed';
    case 'failed':
      // A cancellation's record turns `cancelled` in the same step as its job fails: a record read just before says it was asked.
      return record.status === 'cancelled' || (record.status === 'running' && record.pendingAction === 'cancel') ? 'cancelled' : 'failed';
    case 'active':
      // Held by a worker that has not reported yet (it reports before the job moves on: a retry
      // announced, a pause or cancel being carried out); an ended record means a retry from outside.
      return record.status === 'completed' || record.status === 'failed' ? 'running' : record.status;
    case 'delayed':
      if (record.status === 'paused') return 'paused';
      return heldFor(state, record) ? 'queued' : 'scheduled';
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      // A paused execution that is still queued is held back: the worker that picks it up parks it.
      return record.status === 'paused' ? 'paused' : 'queued';
    default:
      // No job (yet, or any more): Conveyor's own record is all there is.
      return record.status;
  }
}

/**
 * Why the execution waits, while a worker holds it back: its job is parked (delayed by the sentinel,
 * as for a pause) and its record says why. Once promoted, it waits for a worker like any other.
 */
export function heldFor(state: JobState | 'unknown', record: StatusFields): WaitingFor | null {
  return state === 'delayed' && record.status === 'queued' ? (record.waitingFor ?? null) : null;
}

/** What the BullMQ job adds to the record: the input, and the outcome once it has one. */
export interface JobFacts {
  input: unknown;
  result: unknown;
  failedReason: string | null;
  /** When BullMQ finished the job (before Conveyor's own terminal event may be written). */
  finishedOn: number | null;
}

export function toExecutionView(record: ExecutionRecord, status: ExecutionStatus, job: JobFacts | null, waitingFor: WaitingFor | null = null): ExecutionView {
  return {
    id: record.id,
    task: record.task,
    queue: record.queue,
    tenant: record.tenant,
    status,
    priority: record.priority,
    input: job?.input ?? null,
    tags: record.tags ?? [],
    scheduleId: record.scheduleId ?? null,
    scheduledFor: isoOrNull(record.scheduledFor),
    progress: record.progress ?? null,
    attempts: { made: record.attemptsMade ?? 0, max: record.attemptsMax },
    result: status === 'completed' ? (job?.result ?? null) : null,
    error: status === 'failed' ? (record.error ?? errorFromReason(job?.failedReason)) : (record.error ?? null),
    pendingAction: record.pendingAction ?? null,
    cancelReason: record.cancelReason ?? null,
    waitingFor,
    seq: record.seq,
    createdAt: new Date(record.createdAt).toISOString(),
    runAt: new Date(record.runAt).toISOString(),
    startedAt: isoOrNull(record.startedAt),
    finishedAt: isoOrNull(record.finishedAt ?? (isTerminal(status) ? job?.finishedOn : null)),
  };
}

function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

function errorFromReason(reason: string | null | undefined): ExecutionError | null {
  return reason ? { message: reason, name: 'Error', retryable: false } : null;
}
