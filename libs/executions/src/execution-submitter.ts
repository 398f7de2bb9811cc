import { setImmediate } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  defaultTenant,
  IdempotencyConflictError,
  newId,
  NotReplicatedError,
  priorityNumber,
  type AnyTask,
  type BackoffPolicy,
  type EventDataMap,
  type ExecutionError,
  type ExecutionView,
  type Priority,
  type TaskInput,
} from '@conveyor/contracts';
import { execOrThrow, type RedisKeys } from '@conveyor/redis';
import { jobDataVersion, keptAside, type ExecutionJobData } from './execution-record.js';
import { inputCheckMark } from './execution-job.js';
import type { ExecutionQueues, NewJob } from './execution-queues.js';
import type { ExecutionReader } from './execution-reader.js';
import { allWritten, type ExecutionStore, type NewRecord } from './execution-store.js';
import { toExecutionView } from './execution-view.js';

/** Per-submission choices; whatever is unset comes from the task's defaults. */
export interface SubmitOptions {
  priority?: Priority;
  /** Start no earlier than this (a past time runs now). */
  runAt?: Date;
  attempts?: number;
  backoff?: BackoffPolicy;
  timeoutMs?: number | null;
  tags?: string[];
  scheduleId?: string;
  scheduledFor?: Date;
}

/** One submission: a task, its validated input and the options. */
export interface Submission<T extends AnyTask = AnyTask> {
  task: T;
  input: TaskInput<T>;
  options: SubmitOptions;
}

/** An idempotent submission's outcome: a new execution (with what admitted it), or the first one again. */
export type SubmittedOnce<A> = { execution: ExecutionView; created: true; admitted: A } | { execution: ExecutionView; created: false };

/** The BullMQ backoff type whose delay the worker computes (and announces in `execution.retrying`). */
export const conveyorBackoffType = 'conveyor';

/** Executions a batch writes per chunk (one chunk's encoding never holds the event loop long, nor its transaction Redis). */
const writeChunkSize = 100;
/** A batch's chunks written at once: Redis runs one while the gateway encodes the next, and other clients wait behind one chunk at most. */
const chunksInFlight = 2;

export function newExecutionId(): string {
  return newId('execution');
}

/** Replicas that must hold new executions before they are acknowledged (`WAIT`), and how long to wait for them. */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

/** Everything one execution needs written before it exists. */
interface Prepared {
  record: NewRecord;
  queued: EventDataMap['execution.queued'];
  job: NewJob;
  view: ExecutionView;
}

/** The one path by which executions come to exist: REST, batch, schedules and the SDK all use it. */
export class ExecutionSubmitter {
  constructor(
    private readonly store: ExecutionStore,
    private readonly queues: ExecutionQueues,
    private readonly reader: ExecutionReader,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: { idempotencyTtlMs: number; durability: Durability },
  ) {}

  async submit<T extends AnyTask>(submission: Submission<T>, tenant: string, id = newExecutionId()): Promise<ExecutionView> {
    const prepared = prepare(submission, tenant, id);
    await this.undoneOnFailure([prepared], () => this.write([prepared]));
    await this.replicated([prepared.record]);
    return prepared.view;
  }

  /**
   * Many submissions, written in chunks (see `write`), `chunksInFlight` at a time: the gateway
   * encodes and sends a chunk while Redis runs the one before, and the turns of the event loop
   * between chunks let it answer other requests meanwhile. If any write fails, no more are sent, and
   * none of the batch is kept once every write has settled.
   */
  async submitMany(submissions: Submission[], tenant: string): Promise<ExecutionView[]> {
    const prepared = submissions.map((submission) => prepare(submission, tenant, newExecutionId()));
    await this.undoneOnFailure(prepared, async () => {
      const writes: Promise<void>[] = [];
      let failed = false;
      for (let start = 0; start < prepared.length; start += writeChunkSize) {
        if (writes.length >= chunksInFlight) await writes[writes.length - chunksInFlight].catch(() => undefined);
        else if (writes.length > 0) await setImmediate();
        if (failed) break;
        const write = this.write(prepared.slice(start, start + writeChunkSize));
        // Heard at once: a write that fails while the loop waits is the batch's failure, never an unhandled rejection.
        write.catch(() => (failed = true));
        writes.push(write);
      }
      await allWritten(writes);
    });
    await this.replicated(prepared.map((p) => p.record));
    return prepared.map((p) => p.view);
  }

  /** Runs `write`; if any of it fails, undoes every one of these executions: what was not acknowledged is not kept. */
  private async undoneOnFailure(prepared: Prepared[], write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      // A record without its job would read as queued forever; a job without its record would still run.
      await Promise.all(prepared.map((p) => this.undo(p.record)));
      throw error;
    }
  }

  /**
   * The id lookups, then per queue each record (with event 1) and its job in one script call, so that a
   * worker never meets a job without its record, in one transaction when there are several.
   */
  private write(prepared: Prepared[]): Promise<void> {
    return this.store.createWith(prepared, (queue, inQueue) => this.queues.addCreating(queue, inQueue));
  }

  private async undo(record: NewRecord): Promise<void> {
    await this.queues.get(record.queue).remove(record.id).catch(() => undefined);
    // A job that a worker holds already cannot be removed: its record stays, so that it runs recorded.
    if (await this.queues.hasJob(record.queue, record.id).catch(() => true)) return;
    await this.store.forget(record).catch(() => undefined);
  }

  /**
   * With `durability`, waits until that many replicas hold every write so far to the shards of these
   * executions — their queues' and their id lookups' — (`WAIT`), so that a failover loses none of
   * what is about to be acknowledged.
   */
  private async replicated(records: Pick<NewRecord, 'id' | 'queue'>[]): Promise<void> {
    const { replicas, timeoutMs } = this.options.durability;
    if (replicas === 0) return;
    // WAIT covers only the writes of the connection it runs on: Conveyor's wrote id lookups (and a record
    // made without a job), BullMQ's the records with their jobs, in their queues' shards. WAIT names no
    // key: beside a key in one pipeline, it goes to that key's shard. A single Redis is one shard.
    const queueKeys = new Set(records.map(({ queue }) => this.keys.tenants(queue)));
    const idKeys = new Set(records.map(({ id }) => this.keys.executionIndex(id)));
    // With one connection for both (a benchmark's core), the later entry, every key, is the one kept.
    const written = new Map([
      [this.queues.connection, [...queueKeys]],
      [this.redis, [...queueKeys, ...idKeys]],
    ]);
    const waits = [...written].flatMap(([connection, keys]) => (connection.isCluster ? keys : keys.slice(0, 1)).map((key) => ({ connection, key })));
    await Promise.all(
      waits.map(async ({ connection, key }) => {
        const [, confirmed] = (await execOrThrow(connection.pipeline().exists(key).wait(replicas, timeoutMs))) as [number, number];
        if (confirmed < replicas) throw new NotReplicatedError(replicas, confirmed, timeoutMs);
      }),
    );
  }

  /**
   * Submits once per `key` (per tenant, for the idempotency TTL): the same key with the same
   * `fingerprint` returns the first execution; with another fingerprint it is a `409`. `admitAndCreate`
   * runs once the key is claimed, so a repeat is never admitted (the tenant's limits): it admits the
   * submission and makes it with the `create` it is given (as `TenantQuota.admitAndCreate` does); what
   * admitted it comes back as `admitted`, and when it throws the key is free again.
   */
  submitOnce<A>(
    key: string,
    fingerprint: string,
    submission: Submission,
    tenant: string,
    admitAndCreate: (create: () => Promise<ExecutionView>) => Promise<{ created: ExecutionView; admitted: A }>,
  ): Promise<SubmittedOnce<A>> {
    return this.once(key, fingerprint, tenant, async (id) => {
      const { created, admitted } = await admitAndCreate(() => this.submit(submission, tenant, id));
      return { execution: created, admitted };
    });
  }

  /**
   * Like `submitOnce`, for a run that fails before it is queued (a schedule's run whose stored
   * definition no longer validates): recorded `failed` with `error`, its job kept aside, so that a
   * retry queues it as for a cancelled execution.
   */
  failOnce(key: string, fingerprint: string, submission: Submission, tenant: string, error: ExecutionError): Promise<SubmittedOnce<undefined>> {
    return this.once(key, fingerprint, tenant, async (id) => ({ execution: await this.recordFailed(submission, tenant, id, error), admitted: undefined }));
  }

  private async recordFailed(submission: Submission, tenant: string, id: string, error: ExecutionError): Promise<ExecutionView> {
    // Its input may not have passed the task's class: a retry's worker checks it.
    const { record, queued, job } = prepare(submission, tenant, id, { inputChecked: false });
    await this.store.create({ ...record, removedJob: keptAside(job) }, queued);
    await this.store.append(record, 'execution.failed', { error, attempt: 0, willRetry: false }, { status: 'failed', error, finishedAt: Date.now() });
    await this.replicated([record]);
    return (await this.reader.get(id, tenant))!;
  }

  private async once<A>(
    key: string,
    fingerprint: string,
    tenant: string,
    create: (id: string) => Promise<{ execution: ExecutionView; admitted: A }>,
  ): Promise<SubmittedOnce<A>> {
    const slot = this.keys.idempotency(tenant, key);
    const id = newExecutionId();
    const claimed = await this.redis.set(slot, `${id} ${fingerprint}`, 'PX', this.options.idempotencyTtlMs, 'NX');
    if (claimed) {
      try {
        return { ...(await create(id)), created: true };
      } catch (error) {
        await this.redis.del(slot).catch(() => undefined);
        throw error;
      }
    }
    return { execution: await this.firstOf(key, (await this.redis.get(slot)) ?? '', fingerprint, tenant), created: false };
  }

  /**
   * The execution a request with this `key` and `fingerprint` made already, or `null` while the key
   * is free (for a caller that must answer a repeat before its other rules); another fingerprint is a `409`.
   */
  async replayOf(key: string, fingerprint: string, tenant: string): Promise<ExecutionView | null> {
    const claim = await this.redis.get(this.keys.idempotency(tenant, key));
    return claim === null ? null : this.firstOf(key, claim, fingerprint, tenant);
  }

  private firstOf(key: string, claim: string, fingerprint: string, tenant: string): Promise<ExecutionView> {
    const [firstId, firstFingerprint] = claim.split(' ');
    if (firstFingerprint !== fingerprint) {
      throw new IdempotencyConflictError(`Idempotency key "${key}" was used for a different request.`);
    }
    return this.waitForFirst(firstId, tenant);
  }

  /** The first request may still be writing its execution: wait a little for it. */
  private async waitForFirst(id: string, tenant: string): Promise<ExecutionView> {
    for (let waited = 0; waited < 5_000; waited += 25) {
      const execution = await this.reader.get(id, tenant);
      if (execution) return execution;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new IdempotencyConflictError('A request with this idempotency key is still being processed; try again.');
  }
}

function prepare({ task, input, options }: Submission, tenant: string, id: string, { inputChecked = true } = {}): Prepared {
  const now = Date.now();
  const runAt = Math.max(now, options.runAt?.getTime() ?? now);
  const status = runAt > now ? 'scheduled' : 'queued';
  const attempts = options.attempts ?? task.defaults.attempts;
  const priority = priorityNumber(options.priority ?? task.defaults.priority);
  const record: NewRecord = {
    id,
    task: task.name,
    queue: task.queue,
    tenant,
    status,
    priority,
    tags: options.tags ?? [],
    scheduleId: options.scheduleId ?? null,
    scheduledFor: options.scheduledFor?.getTime() ?? null,
    createdAt: now,
    runAt,
    startedAt: null,
    finishedAt: null,
    attemptsMade: 0,
    attemptsMax: attempts,
    progress: null,
    error: null,
    pendingAction: null,
    cancelReason: null,
  };
  // A job costs Redis about a byte per character of its data and options: what reads as absent is
  // left out (the format's version while it is the first; the default tenant; the backoff, which a
  // single attempt never asks for; no delay).
  const data: ExecutionJobData = {
    ...jobDataVersion,
    ...(tenant === defaultTenant ? {} : { tenant }),
    input,
    timeoutMs: options.timeoutMs === undefined ? task.defaults.timeoutMs : options.timeoutMs,
    ...(attempts > 1 ? { backoff: options.backoff ?? task.defaults.backoff } : {}),
    ...(options.scheduleId ? { scheduleId: options.scheduleId } : {}),
    // The worker trusts it instead of checking the input again.
    ...(inputChecked ? { inputCheck: inputCheckMark(task, input) } : {}),
  };
  const opts: NewJob['opts'] = {
    priority,
    ...(runAt > now ? { delay: runAt - now } : {}),
    attempts,
    ...(attempts > 1 ? { backoff: { type: conveyorBackoffType } } : {}),
    // BullMQ keeps a finished job unless told otherwise: Conveyor's retention removes it together with
    // its record, events and logs.
  };
  return {
    record,
    queued: { status, runAt: new Date(runAt).toISOString(), priority },
    job: { id, name: task.name, data, opts },
    view: toExecutionView({ ...record, seq: 1 }, status, { input, result: null, failedReason: null, finishedOn: null }),
  };
}
