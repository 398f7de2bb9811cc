import type { JobsOptions } from 'bullmq';
import { isDeepStrictEqual } from 'node:util';
import {
  defaultTenant,
  priorityLevels,
  type BackoffPolicy,
  type EventDataMap,
  type ExecutionError,
  type ExecutionProgress,
  type ExecutionStatus,
  type WaitingFor,
} from '@conveyor/contracts';

/** Which execution, and where its keys live. */
export interface ExecutionRef {
  id: string;
  queue: string;
  task: string;
  tenant: string;
  /** The schedule that fired it: its events carry the id too, for the schedule's room. */
  scheduleId?: string | null;
}

/**
 * What Conveyor itself knows of an execution, kept in one Redis hash beside the BullMQ job.
 * `status` is the last status Conveyor wrote; readers combine it with BullMQ's job state.
 * Times are epoch milliseconds.
 */
export interface ExecutionRecord extends ExecutionRef {
  seq: number;
  status: ExecutionStatus;
  priority: number;
  tags: string[];
  scheduleId: string | null;
  scheduledFor: number | null;
  createdAt: number;
  runAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  attemptsMade: number;
  attemptsMax: number;
  progress: ExecutionProgress | null;
  error: ExecutionError | null;
  pendingAction: PendingAction | null;
  cancelReason: string | null;
  /** Why a worker held the execution back instead of running it (until it starts); absent in older records. */
  waitingFor?: WaitingFor | null;
  /** The BullMQ job as it was when Conveyor removed it (a cancelled queued execution), so that it can run again. */
  removedJob?: RemovedJob | null;
  /** Event 1's data, kept only when it says more than the record's first fields (see `firstEventData`). */
  firstEvent?: EventDataMap['execution.queued'] | null;
}

/**
 * Event 1 (`execution.queued`, at `createdAt`) is the record's, not its event log's: a list for that
 * one event cost a queued execution more than half its job. Its data is what the record says as it is
 * created — queued now, at its priority — unless the record keeps other data (a later `runAt`, an
 * adopted job) in `firstEvent`.
 */
export function firstEventData(record: Pick<ExecutionRecord, 'createdAt' | 'priority' | 'firstEvent'>): EventDataMap['execution.queued'] {
  return record.firstEvent ?? { status: 'queued', runAt: firstEventTs(record), priority: record.priority };
}

/** Event 1's `ts`: the record's creation. */
export function firstEventTs(record: Pick<ExecutionRecord, 'createdAt'>): string {
  return new Date(record.createdAt).toISOString();
}

/** The `firstEvent` a new record keeps for event 1's `data`: none when its fields imply it. */
export function keptFirstEvent(record: Pick<ExecutionRecord, 'createdAt' | 'priority'>, data: EventDataMap['execution.queued']): EventDataMap['execution.queued'] | null {
  return isDeepStrictEqual(data, firstEventData({ ...record, firstEvent: null })) ? null : data;
}

/** An action requested of a running execution, carried out by the worker that holds it. */
export type PendingAction = 'cancel' | 'pause';

export interface RemovedJob {
  name: string;
  data: ExecutionJobData;
  opts: Pick<JobsOptions, 'priority' | 'attempts' | 'backoff'>;
}

/** What a job without a queue entry keeps, so that a retry can queue it again. */
export function keptAside(job: { name: string; data: ExecutionJobData; opts: JobsOptions }): RemovedJob {
  return { name: job.name, data: job.data, opts: { priority: job.opts.priority, attempts: job.opts.attempts, backoff: job.opts.backoff } };
}

/** Current version of stored payloads (record, job data). */
export const storedFormatVersion = 1;

/**
 * The version as a job's data spells it, first: left out while it is 1, which its absence reads as
 * (a later version is written, so that a worker that cannot read it refuses it).
 */
export const jobDataVersion: Pick<ExecutionJobData, 'v'> = storedFormatVersion === 1 ? {} : { v: storedFormatVersion };

/** BullMQ job data of an execution. Persisted: add fields, never rename them. */
export interface ExecutionJobData {
  /** Absent: 1, the first version (left out while it is the current one; a later format writes its own first). */
  v?: typeof storedFormatVersion;
  /** Absent: the default tenant. */
  tenant?: string;
  input: unknown;
  timeoutMs: number | null;
  /** Absent: the task's default (left out where a single attempt never asks for it). */
  backoff?: BackoffPolicy;
  /** The schedule that fired it, if any. */
  scheduleId?: string;
  /** Set by Conveyor when `input` passed the task's class at submission (see `inputCheckMark`). */
  inputCheck?: string;
}

const jsonFields = new Set<keyof ExecutionRecord>(['tags', 'progress', 'error', 'removedJob', 'firstEvent']);
const numberFields = new Set<keyof ExecutionRecord>([
  'seq', 'priority', 'scheduledFor', 'createdAt', 'runAt', 'startedAt', 'finishedAt', 'attemptsMade', 'attemptsMax',
]);

/** The fields a record may leave out: absent reads as `null`. */
const nullableFields: readonly (keyof ExecutionRecord)[] = [
  'scheduleId', 'scheduledFor', 'startedAt', 'finishedAt', 'progress', 'error', 'pendingAction', 'cancelReason', 'waitingFor', 'removedJob', 'firstEvent',
];

/** Where a record is: its key says its queue and id. */
type RecordKey = Pick<ExecutionRecord, 'queue' | 'id'>;

/** What absent fields besides the nullable ones read as, from the rest of the record and its key. */
const absentReadsAs: { [K in keyof ExecutionRecord]?: (record: ExecutionRecord, key: RecordKey) => ExecutionRecord[K] } = {
  id: (_, key) => key.id,
  queue: (_, key) => key.queue,
  tenant: () => defaultTenant,
  priority: () => priorityLevels.normal,
  tags: () => [],
  attemptsMade: () => 0,
  attemptsMax: () => 1,
  runAt: (record) => record.createdAt,
};

/**
 * Record fields as the flat field/value list HSET takes; `null` is stored as an empty string. A new
 * record (`lean`) leaves out its nulls and the fields that hold what their absence reads as: each
 * field costs a record about 15 bytes.
 */
export function encodeRecordFields(fields: Partial<ExecutionRecord>, { lean = false } = {}): string[] {
  return Object.entries(fields).flatMap(([name, value]) => {
    if (value === undefined || (lean && (value === null || readsAsAbsent(name as keyof ExecutionRecord, value, fields)))) return [];
    if (value === null) return [name, ''];
    return [name, jsonFields.has(name as keyof ExecutionRecord) ? JSON.stringify(value) : String(value)];
  });
}

function readsAsAbsent(name: keyof ExecutionRecord, value: unknown, record: Partial<ExecutionRecord>): boolean {
  const absent = absentReadsAs[name];
  return absent !== undefined && isDeepStrictEqual(value, absent(record as ExecutionRecord, record as RecordKey));
}

/** The record from its hash, which `key` names; `null` when there is none (every record holds its status). */
export function decodeRecord(hash: Record<string, string>, key: RecordKey): ExecutionRecord | null {
  if (!hash.status) return null;
  const record: Record<string, unknown> = Object.fromEntries(nullableFields.map((name) => [name, null]));
  for (const [name, raw] of Object.entries(hash)) {
    const field = name as keyof ExecutionRecord;
    if (raw === '') record[name] = null;
    else if (jsonFields.has(field)) record[name] = JSON.parse(raw);
    else if (numberFields.has(field)) record[name] = Number(raw);
    else record[name] = raw;
  }
  for (const [name, absent] of Object.entries(absentReadsAs)) if (!(name in hash)) record[name] = absent(record as unknown as ExecutionRecord, key);
  return record as unknown as ExecutionRecord;
}
