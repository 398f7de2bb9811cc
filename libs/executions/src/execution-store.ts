import type { Redis } from 'ioredis';
import {
  decodeStored,
  defaultTenant,
  encodeNumbered,
  encodePublished,
  eventEnvelope,
  isWebhookEventType,
  executionStatuses,
  limits,
  type ConveyorEvent,
  type EventDataMap,
  type ExecutionStatus,
  type ExecutionEventType,
  type WaitingFor,
  type LogLevel,
  type LogLine,
  type NewEvent,
  type QueueStatsMinute,
} from '@conveyor/contracts';
import { countExecutionEvent, countSubmitted } from '@conveyor/metrics';
import { defineConveyorScripts, eventLogCap, executionEventKeyCount, execOrThrow, loggedEventsCap, firstEventFields, onlyWhile, type EventLogPage, type ExecutionEventKeys, type RedisKeys, type StartReply } from '@conveyor/redis';
import {
  decodeRecord,
  encodeRecordFields,
  firstEventData,
  firstEventTs,
  keptFirstEvent,
  storedFormatVersion,
  type ExecutionRecord,
  type ExecutionRef,
  type PendingAction,
} from './execution-record.js';
import { foldMinute, lastHour, minuteOf } from './queue-stats.js';

export { eventLogCap };
/** How many log lines an execution keeps. */
export const logLinesCap = 1000;

export interface StartState {
  /** The status Conveyor last wrote; `running` means the previous attempt's worker vanished. */
  status: ExecutionStatus | null;
  pendingAction: PendingAction | null;
  startedAt: number | null;
  /** Set when the execution was held back last time it was picked up. */
  waitingFor: WaitingFor | null;
  /** The last checkpoint's state, `undefined` when there is none. */
  checkpoint: unknown;
}

export type NewRecord = Omit<ExecutionRecord, 'seq'>;

/** The keys of `ExecutionEventKeys` that are a tenant's in a queue, not an execution's nor a minute's. */
interface SharedEventKeys {
  beforeStats: [channel: string, statusCounts: string, queueStatusCounts: string, finished: string];
  afterStats: [hooked: string, outbox: string, statusIndexPrefix: string, indexedTasks: string];
}

const sharedEventKeysKept = 1000;

/** A record to create, with its first event. */
export interface NewEntry {
  record: NewRecord;
  queued: EventDataMap['execution.queued'];
}

/**
 * What makes a record exist, for a script that writes it in the same step as its job: the keys and
 * arguments of the record's append with event 1 (as `conveyorAppendEvent`'s), then the queue's tenants
 * and the execution's list indexes (keys), and its tenant (an argument).
 */
export interface RecordCreation {
  keys: string[];
  args: (string | number)[];
}

export type EventPage = EventLogPage<ConveyorEvent>;

/** Reads and writes Conveyor's own facts of executions: records, numbered events, log lines. */
export class ExecutionStore {
  /** See `sharedEventKeys`, by `<queue>/<tenant>`. */
  private readonly eventKeysByTenant = new Map<string, SharedEventKeys>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /**
     * The connection records are read on: BullMQ's queues' (see `ExecutionQueues`). Whoever reads a job
     * too sends the record's read first: Redis answers one connection's commands in order, so the record
     * is then never newer than the job's state (a completion recorded after the job was read would
     * otherwise read as `running` for good).
     */
    private readonly recordReads: Redis = redis,
  ) {
    defineConveyorScripts(redis);
  }

  /**
   * The tenants with executions in the queue. `default` always counts: executions made before tenants
   * were recorded per queue are all its own (there was no other tenant then).
   */
  async tenantsIn(queue: string): Promise<string[]> {
    return [...new Set([defaultTenant, ...(await this.redis.smembers(this.keys.tenants(queue)))])];
  }

  /** The tasks of the tenant's executions in the queue: those of its status indexes. */
  tasksIn(queue: string, tenant: string): Promise<string[]> {
    return this.redis.smembers(this.keys.indexedTasks(queue, tenant));
  }

  /** Drops the tenant's tasks in the queue with no execution left in their status indexes (see `tasksIn`); returns how many. */
  pruneTasks(queue: string, tenant: string): Promise<number> {
    return this.redis.conveyorPruneIndexedTasks(this.keys.indexedTasks(queue, tenant), this.keys.statusIndexPrefix(queue, tenant));
  }

  /** Creates the record and index entry, with `execution.queued` as event 1, without a job. */
  async create(record: NewRecord, queued: EventDataMap['execution.queued']): Promise<void> {
    await this.createWith([{ record, queued }], async (_queue, [{ creation }]) => {
      await this.redis.conveyorCreateExecution(creation.keys.length, ...creation.keys, ...creation.args, 0);
    });
  }

  /**
   * Creates records in the writes that `write` makes of their creations, per queue (one hash tag, so
   * one node of a cluster): scripts that write each with its job (see `RecordCreation`). The id
   * lookups (each under its id's own tag) are written first: a job a worker may run at once is always
   * found by its id, and a lookup that fails leaves no job to undo. Throws once all of it has settled,
   * so that an undo comes after every write.
   */
  async createWith<E extends NewEntry>(entries: E[], write: (queue: string, inQueue: (E & { creation: RecordCreation })[]) => Promise<unknown>): Promise<void> {
    await allWritten(this.lookUpById(entries.map(({ record }) => record)));
    const byQueue = Map.groupBy(entries, ({ record }) => record.queue);
    await allWritten([...byQueue].map(([queue, inQueue]) => write(queue, inQueue.map((entry) => ({ ...entry, creation: this.creation(entry.record, entry.queued) })))));
    for (const { record } of entries) countSubmitted(record);
  }

  /**
   * Writes where each execution lives under its id (`<queue>/<tenant>`, or its queue alone for the
   * default tenant: see `locate`): one command per lookup hash (of 32) however many executions.
   */
  private lookUpById(records: NewRecord[]): Promise<unknown>[] {
    const byKey = Map.groupBy(records, ({ id }) => this.keys.executionIndex(id));
    const entry = ({ queue, tenant }: NewRecord) => (tenant === defaultTenant ? queue : `${queue}/${tenant}`);
    return [...byKey].map(([key, inKey]) => this.redis.hset(key, Object.fromEntries(inKey.map((record) => [record.id, entry(record)]))));
  }

  /** The writes that make a record exist, as the script that makes it (with its job, or alone) takes them. */
  private creation(record: NewRecord, queued: EventDataMap['execution.queued']): RecordCreation {
    // Event 1 is published, not logged: the record holds it (see `firstEventData`), so it is dated as the record.
    const fields = { ...record, firstEvent: keptFirstEvent(record, queued) };
    const create = this.appendCommand('create', record, 'execution.queued', queued, fields, [], firstEventTs(record));
    return {
      keys: [...(create.slice(0, executionEventKeyCount) as string[]), this.keys.tenants(record.queue), ...this.listIndexes(record)],
      args: [...create.slice(executionEventKeyCount), record.tenant],
    };
  }

  /**
   * Appends a numbered event and applies `fields` to the record, atomically — if the record's status
   * is one of `onlyFrom` (when given). `ts` dates the event (now when unset), for data reckoned from
   * the same instant. Returns the event's seq, or `null` when the execution no longer exists or had
   * another status.
   */
  async append<T extends ExecutionEventType>(
    ref: ExecutionRef,
    type: T,
    data: EventDataMap[T],
    fields: Partial<ExecutionRecord> = {},
    onlyFrom?: readonly ExecutionStatus[],
    ts?: string,
  ): Promise<number | null> {
    return this.appended(ref, type, await this.redis.conveyorAppendEvent(...this.appendCommand('update', ref, type, data, fields, onlyFrom, ts)));
  }

  /**
   * As `append`, only while the record is as it was read (no event since: its `seq` unchanged), for a
   * change decided from what was read. Returns the event's seq, or `null` when it was not written.
   */
  async appendUnlessChanged<T extends ExecutionEventType>(
    record: ExecutionRecord,
    type: T,
    data: EventDataMap[T],
    fields: Partial<ExecutionRecord>,
  ): Promise<number | null> {
    return this.appended(record, type, await this.redis.conveyorAppendEvent(...this.appendCommand(`update@${record.seq}`, record, type, data, fields)));
  }

  /** The seq of an event `appendCommand` made, from the append's reply; `null` when it was not written. */
  appended(ref: ExecutionRef, type: ExecutionEventType, reply: number): number | null {
    if (reply < 0) return null;
    countExecutionEvent(type, ref);
    return reply;
  }

  /** Stores a log line (cut to the contract's limit) and publishes it live, without a seq. */
  async appendLog(ref: ExecutionRef, level: LogLevel, text: string): Promise<void> {
    const line = cutLogLine(text);
    const ts = new Date().toISOString();
    const event = eventEnvelope(newEvent(ref, 'execution.log', { level, line }), undefined, ts);
    await this.redis.conveyorAppendLog(
      this.keys.executionLogs(ref.queue, ref.id),
      this.keys.eventsChannel(ref.queue),
      JSON.stringify({ ts, level, line }),
      logLinesCap,
      encodePublished(event),
    );
  }

  /**
   * Removes the record, its events, log lines and checkpoint, and its entries in every index and
   * counter; `false` when it was gone already (another remover's counters stand).
   */
  async forget(record: Pick<ExecutionRecord, 'id' | 'queue' | 'tenant' | 'task' | 'tags' | 'scheduleId'>): Promise<boolean> {
    const { queue, id, tenant } = record;
    const removed = await this.redis.conveyorForgetExecution(
      this.keys.execution(queue, id),
      this.keys.executionEvents(queue, id),
      this.keys.executionLogs(queue, id),
      this.keys.executionCheckpoint(queue, id),
      this.keys.statusCounts(queue, tenant),
      this.keys.statusCounts(queue, null),
      this.keys.finished(queue),
      this.keys.statusIndexPrefix(queue, tenant),
      id,
    );
    // Earlier versions also kept an index of all of a tenant's executions, one of each task, and one
    // id lookup for all: they drain as executions go.
    const earlierIndexes = [this.keys.index(queue, tenant, 'task', record.task), this.keys.index(queue, tenant, 'all')];
    await Promise.all([
      ...[...this.listIndexes(record), ...earlierIndexes].map((index) => this.redis.zrem(index, id)),
      this.redis.hdel(this.keys.executionIndex(id), id),
      this.redis.hdel(this.keys.legacyExecutionIndex(), id),
    ]);
    return removed === 1;
  }

  /** The list indexes an execution is in besides its status and task's (which the scripts keep). */
  private listIndexes(record: Pick<ExecutionRecord, 'queue' | 'tenant' | 'tags' | 'scheduleId'>): string[] {
    const { queue, tenant } = record;
    return [
      ...(record.tags ?? []).map((tag) => this.keys.index(queue, tenant, 'tag', tag)),
      ...(record.scheduleId ? [this.keys.index(queue, tenant, 'schedule', record.scheduleId)] : []),
    ];
  }

  /**
   * Stores a handler's checkpoint (the state a later attempt resumes from), and returns the action
   * requested of the execution meanwhile, if any: a checkpoint is where such a request takes effect.
   */
  async saveCheckpoint(ref: ExecutionRef, state: unknown): Promise<PendingAction | null> {
    const [, pendingAction] = await execOrThrow(
      this.redis
        .multi()
        .set(this.keys.executionCheckpoint(ref.queue, ref.id), JSON.stringify({ v: storedFormatVersion, state }))
        .hget(this.keys.execution(ref.queue, ref.id), 'pendingAction'),
    );
    return (pendingAction as PendingAction | '' | null) || null;
  }

  /** What a worker needs to know as it picks an execution up. */
  async readStartState(ref: ExecutionRef): Promise<StartState> {
    const [[status, pendingAction, startedAt, waitingFor], checkpoint] = await Promise.all([
      this.redis.hmget(this.keys.execution(ref.queue, ref.id), 'status', 'pendingAction', 'startedAt', 'waitingFor'),
      this.redis.get(this.keys.executionCheckpoint(ref.queue, ref.id)),
    ]);
    return toStartState(status, pendingAction, startedAt, waitingFor, checkpoint);
  }

  /**
   * Reads the start state and, in the same step, records the attempt's start — unless a pause is
   * pending: `execution.recovered` when the record still says `running` (its worker vanished), else
   * `execution.started` — after `execution.retried` when the record had ended (its job was run again
   * outside Conveyor). A status `null` says there is no record (nothing was written). A worker's
   * fetch of a job records it so too, in BullMQ's own step (see `started`).
   */
  async startAttempt(ref: ExecutionRef, attempt: number): Promise<StartState> {
    const now = Date.now();
    const record = this.keys.execution(ref.queue, ref.id);
    return this.started(ref, await this.redis.conveyorStartAttempt(record, this.keys.prefix, ref.queue, ref.id, now, new Date(now).toISOString(), attempt));
  }

  /** The start state from a start's reply (`startAttempt`'s, or a fetch's), the start counted when it was written. */
  started(ref: ExecutionRef, [seq, status, pendingAction, startedAt, waitingFor, checkpoint]: StartReply): StartState {
    if (seq > 0) countExecutionEvent('execution.started', ref);
    return toStartState(status, pendingAction, startedAt, waitingFor, checkpoint);
  }

  /**
   * Applies `fields` to the record without an event (the status index and counters follow); `false`
   * when the execution does not exist or had another status than `onlyFrom`.
   */
  async update(ref: ExecutionRef, fields: Partial<ExecutionRecord>, onlyFrom?: readonly ExecutionStatus[]): Promise<boolean> {
    return (await this.redis.conveyorAppendEvent(...this.appendCommand('fields', ref, 'execution.queued', null as never, fields, onlyFrom))) >= 0;
  }

  /** Where an execution lives; `null` for an unknown id. */
  async locate(id: string): Promise<{ queue: string; tenant: string } | null> {
    const entry = (await this.redis.hget(this.keys.executionIndex(id), id)) ?? (await this.redis.hget(this.keys.legacyExecutionIndex(), id));
    if (!entry) return null;
    // Earlier versions named the default tenant too.
    const [queue, tenant = defaultTenant] = entry.split('/');
    return { queue, tenant };
  }

  /** The record (read as the constructor says), or `null` when there is none. */
  async read(queue: string, id: string): Promise<ExecutionRecord | null> {
    return decodeRecord(await this.recordReads.hgetall(this.keys.execution(queue, id)), { queue, id });
  }

  /** `fields` of the record, decoded and read as `read` does, or `null` when there is none. */
  async readFields<F extends keyof ExecutionRecord>(queue: string, id: string, fields: readonly F[]): Promise<Pick<ExecutionRecord, F> | null> {
    // The status too: it is what tells `decodeRecord` that the record exists.
    const names = ['status', ...fields];
    return decodeFields(names, await this.recordReads.hmget(this.keys.execution(queue, id), ...names), { queue, id });
  }

  /**
   * Events with `seq > since`, oldest first, at most `limit`, whole again with whom they are about (the
   * record says it) and a completion with its result (its job keeps it); event 1 from the record, unless
   * an earlier version logged it. None without a record.
   */
  async readEvents(queue: string, id: string, since: number, limit = eventLogCap): Promise<EventPage> {
    const [firstSeq, entries, values, withFirstEvent] = await this.redis.conveyorReadExecutionEvents(
      this.keys.executionEvents(queue, id),
      this.keys.execution(queue, id),
      this.keys.job(queue, id),
      since,
      limit,
    );
    const record = values && decodeFields(firstEventFields, values, { queue, id });
    if (!record) return { firstSeq: 0, events: [] };
    const subject = newEvent(record, 'execution.queued', firstEventData(record));
    const returnvalue = values[firstEventFields.length] ?? null;
    const events = entries.map((entry) => decodeStored(entry, subject, returnvalue));
    if (withFirstEvent) events.unshift(eventEnvelope(subject, 1, firstEventTs(record)));
    return { firstSeq, events };
  }

  /** Executions per status, of a tenant in the given queues (from the counters the scripts keep). */
  async statusCounts(queues: readonly string[], tenant: string | null): Promise<Record<ExecutionStatus, number>> {
    const counts = await Promise.all(queues.map((queue) => this.redis.hgetall(this.keys.statusCounts(queue, tenant))));
    return Object.fromEntries(
      executionStatuses.map((status) => [status, Math.max(0, counts.reduce((sum, count) => sum + Number(count[status] ?? 0), 0))]),
    ) as Record<ExecutionStatus, number>;
  }

  /** The queue's last hour up to `now`, minute by minute, of these tenants' executions together. */
  async queueStats(queue: string, tenants: readonly string[], now: number): Promise<QueueStatsMinute[]> {
    const minutes = lastHour(now);
    const pipeline = this.redis.pipeline();
    for (const minute of minutes) for (const tenant of tenants) pipeline.hgetall(this.keys.queueStats(queue, tenant, minute));
    const hashes = (await execOrThrow(pipeline)) as Record<string, string>[];
    return minutes.map((minute, i) => foldMinute(minute, hashes.slice(i * tenants.length, (i + 1) * tenants.length)));
  }

  async readLogs(queue: string, id: string): Promise<LogLine[]> {
    const lines = await this.redis.lrange(this.keys.executionLogs(queue, id), 0, -1);
    return lines.map((line) => JSON.parse(line) as LogLine);
  }

  /** The keys of the event scripts; `now` names the minute whose stats a start or an ending counts in. */
  private eventKeys(ref: ExecutionRef, now: number): ExecutionEventKeys {
    const { beforeStats, afterStats } = this.sharedEventKeys(ref.queue, ref.tenant);
    return [
      this.keys.execution(ref.queue, ref.id),
      this.keys.executionEvents(ref.queue, ref.id),
      ...beforeStats,
      this.keys.queueStats(ref.queue, ref.tenant, minuteOf(now)),
      ...afterStats,
    ];
  }

  /**
   * The event scripts' keys that every execution of a tenant in a queue shares, on either side of the
   * minute's stats: made once (a run sends them twice), and kept for `sharedEventKeysKept` tenants and queues at most.
   */
  private sharedEventKeys(queue: string, tenant: string): SharedEventKeys {
    const id = `${queue}/${tenant}`;
    let shared = this.eventKeysByTenant.get(id);
    if (!shared) {
      const [, , channel, statusCounts, queueStatusCounts, finished, , ...afterStats] = this.keys.executionEventKeys(queue, '', tenant, 0);
      shared = { beforeStats: [channel, statusCounts, queueStatusCounts, finished], afterStats: afterStats as SharedEventKeys['afterStats'] };
      if (this.eventKeysByTenant.size >= sharedEventKeysKept) this.eventKeysByTenant.delete(this.eventKeysByTenant.keys().next().value!);
      this.eventKeysByTenant.set(id, shared);
    }
    return shared;
  }

  /**
   * What the event script is sent (its keys, then its arguments): by `append`, `create` and `update`,
   * and by the scripts that create an execution, with its job or alone (see `creation`).
   */
  appendCommand<T extends ExecutionEventType>(
    mode: 'create' | 'update' | `update@${number}` | 'fields',
    ref: ExecutionRef,
    type: T,
    data: EventDataMap[T],
    fields: Partial<ExecutionRecord>,
    onlyFrom: readonly ExecutionStatus[] = [],
    ts?: string,
  ): Parameters<Redis['conveyorAppendEvent']> {
    const { route, head, tail, storedHead, storedTail } = encodeNumbered(newEvent(ref, type, data), ts);
    const now = Date.now();
    return [
      ...this.eventKeys(ref, now),
      mode,
      route,
      head,
      tail,
      loggedEventsCap,
      now,
      onlyWhile(onlyFrom),
      isWebhookEventType(type) ? ref.tenant : '',
      storedHead,
      ref.id,
      storedTail,
      ...encodeRecordFields(fields, { lean: mode === 'create' }),
    ];
  }

  /**
   * What BullMQ's end of a job sends for its execution's ending (`conveyorFinish`, which builds the
   * execution's keys itself and appends only while the record is active; its reply goes to
   * `appended`): the tenant, the event's encoding and the record's fields.
   */
  endingArgs<T extends ExecutionEventType>(ref: ExecutionRef, type: T, data: EventDataMap[T], fields: Partial<ExecutionRecord>, ts: string): string[] {
    const { route, head, tail, storedHead, storedTail } = encodeNumbered(newEvent(ref, type, data), ts);
    return [ref.tenant, route, head, tail, storedHead, storedTail, ...encodeRecordFields(fields)];
  }
}

/** Waits for every write to settle, then throws the first failure, if any. */
export async function allWritten(writes: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(writes)).find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A record from some of its fields' values, as HMGET returns them (`null`: absent). */
function decodeFields(names: readonly string[], values: readonly (string | null)[], key: Pick<ExecutionRecord, 'queue' | 'id'>): ExecutionRecord | null {
  return decodeRecord(Object.fromEntries(names.flatMap((name, i) => (values[i] === null ? [] : [[name, values[i]]]))), key);
}

function newEvent<T extends ExecutionEventType>(ref: ExecutionRef, type: T, data: EventDataMap[T]): NewEvent<T> {
  const { id: executionId, queue, task, tenant } = ref;
  return { type, executionId, scheduleId: ref.scheduleId ?? undefined, queue, task, tenant, data };
}

function toStartState(
  status: string | null | undefined,
  pendingAction: string | null | undefined,
  startedAt: string | null | undefined,
  waitingFor: string | null | undefined,
  checkpoint: string | null | undefined,
): StartState {
  return {
    status: (status as ExecutionStatus | null) || null,
    pendingAction: (pendingAction as PendingAction | null) || null,
    startedAt: startedAt ? Number(startedAt) : null,
    waitingFor: (waitingFor as WaitingFor | null) || null,
    checkpoint: checkpoint == null ? undefined : (JSON.parse(checkpoint) as { state: unknown }).state,
  };
}

function cutLogLine(line: string): string {
  if (Buffer.byteLength(line) <= limits.logLineBytes) return line;
  const marker = ' … [cut: line longer than 8 KiB]';
  let cut = line.slice(0, limits.logLineBytes - marker.length);
  while (Buffer.byteLength(cut) > limits.logLineBytes - marker.length) cut = cut.slice(0, -1);
  return cut + marker;
}
