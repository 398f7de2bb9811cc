import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  activeStatuses,
  isId,
  limits,
  NonRetryableError,
  type AnyTask,
  type ExecutionError,
  type WaitingFor,
} from '@conveyor/contracts';
import type { WorkerConfig } from '@conveyor/config';
import {
  checkExecutionJob,
  checkJobInput,
  ExecutionStore,
  isJobRefusal,
  parkedDelayMs,
  type StartState,
  type ExecutionJobData,
  type ExecutionRecord,
  type ExecutionRef,
  type CheckedJob,
  type JobRefusal,
} from '@conveyor/executions';
import { observeQueueWait, observeRun } from '@conveyor/metrics';
import { isRedisUnavailableError, type StartReply } from '@conveyor/redis';
import { ScheduleService } from '@conveyor/schedules';
import { LOGGER, type Logger } from '@conveyor/service';
import { tracing } from '@conveyor/tracing';
import { taskHandlers } from '../tasks/task-handlers.js';
import { WORKER_CONFIG } from '../worker-config.js';
import type { TaskHandler } from '../tasks/task-handler.js';
import { dated, endingOf, JobMovesWithEvents, type Ending } from './job-moves-with-events.js';
import { AttemptContext } from './execution-context.js';
import { ExecutionEvents } from './execution-events.js';
import { describeFailure, type AbortReason } from './failure.js';
import { retryDelay } from './retry-delay.js';
import { TenantConcurrency } from './tenant-concurrency.js';

export type ExecutionJob = Job<ExecutionJobData, unknown, string>;

/** How long a request heard for a job not running here is kept for the job's pick (every worker hears every request). */
const heardAheadKeptMs = 10_000;
/** Test hook only: how long an execution refused a slot waits before it is parked (a limit removed meanwhile). */
const holdDelayForTest = Number(process.env.CONVEYOR_TEST_HOLD_DELAY_MS ?? 0);

/** What the runner attaches to the error it hands BullMQ, so that retry and reporting agree. */
interface AttemptOutcome {
  conveyor: { error: ExecutionError | null; attempt: number; retryDelayMs: number | null; cancelled?: { reason: string | null } };
}

/** The delay BullMQ should wait before the next attempt, as decided (and announced) by the runner. */
export function plannedRetryDelay(error: unknown): number {
  return (error as Partial<AttemptOutcome>).conveyor?.retryDelayMs ?? -1;
}

/** The error BullMQ is handed for a final failure, carrying what `execution.failed` reports. */
export function finalFailure(error: ExecutionError, attempt: number): UnrecoverableError {
  return Object.assign(new UnrecoverableError(error.message), { conveyor: { error, attempt, retryDelayMs: null } });
}

/**
 * The single BullMQ processor: finds the task and its handler, validates the input again unless
 * Conveyor validated it at submission (a job added by hand may be malformed), runs one attempt with
 * its context, and reports every change.
 */
@Injectable()
export class TaskRunner {
  /** The contexts of the attempts running here, by execution id. */
  private readonly running = new Map<string, AttemptContext>();
  /** Executions a cancel or pause was requested of while their job was not running here, by id → when heard (oldest first). */
  private readonly heardAhead = new Map<string, number>();
  /** Each job's check, made once: BullMQ hands the completion and failure events the job it processed. */
  private readonly checks = new WeakMap<ExecutionJob, CheckedJob | JobRefusal>();

  constructor(
    private readonly store: ExecutionStore,
    private readonly moduleRef: ModuleRef,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly schedules: ScheduleService,
    private readonly concurrency: TenantConcurrency,
    private readonly moves: JobMovesWithEvents,
  ) {}

  async process(queue: string, job: ExecutionJob, token: string | undefined, signal?: AbortSignal): Promise<unknown> {
    const picked = this.moves.startOf(queue, job);
    const checked = this.check(queue, job);
    if (isJobRefusal(checked)) throw this.refuse(queue, job, checked);
    const { ref, task, data } = checked;
    const events = new ExecutionEvents(this.store, ref, this.logger);
    const attempt = job.attemptsMade + 1;
    const start = picked ? await this.pickedStart(job, token, events, picked) : await this.startAttempt(job, token, events, attempt);
    this.noteStart(job, events, attempt, start);
    await this.parkIfPauseRequested(job, token, events, start);

    const { timeoutMs } = data;
    const control = new AbortController();
    const abort = (reason: AbortReason) => control.signal.aborted || control.abort(reason);
    const forward = () => abort(signal?.reason as AbortReason);
    signal?.addEventListener('abort', forward, { once: true });
    // A cancel heard while the start was still being read (BullMQ aborted its signal before this listened).
    if (signal?.aborted) forward();
    const timer = timeoutMs === null ? null : setTimeout(() => abort('timeout'), timeoutMs);
    const runStarted = performance.now();
    let ctx: AttemptContext | undefined;
    try {
      if (start.pendingAction === 'cancel') abort('cancel');
      if (task.demo && !this.config.demoTasks) {
        throw new NonRetryableError(`Task "${task.name}" is a demo task, turned off on this worker (CONVEYOR_DEMO_TASKS=false)`, 'task_disabled');
      }
      const input = checkJobInput(task, data);
      if (!input.ok) throw new NonRetryableError(`Invalid input: ${input.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, 'invalid_input');
      const attemptCtx = new AttemptContext(events, this.store, attempt, control.signal, start.checkpoint, abort);
      ctx = attemptCtx;
      this.running.set(ref.id, attemptCtx);
      const handler = this.moduleRef.get<TaskHandler<AnyTask>>(taskHandlers[task.name]);
      // A cancelled handler gets a grace period to stop; after a timeout or at shutdown it is abandoned at once.
      const graceMs = (reason: AbortReason) => (reason === 'cancel' ? this.config.cancelGraceMs : 0);
      const attributes = { 'conveyor.execution.id': ref.id, 'conveyor.queue': ref.queue, 'conveyor.task': task.name, 'conveyor.attempt': attempt };
      const run = tracing().inSpan(`run ${task.name}`, { attributes }, () => handler.run(input.value as never, attemptCtx));
      const result = await untilAborted(run, control.signal, graceMs);
      assertWithinLimit(result);
      await events.flush();
      this.moves.expect(job, ref, endingOf.completed(result));
      return result;
    } catch (error) {
      throw await this.failAttempt(job, data, token, events, attempt, error, control.signal.aborted ? (control.signal.reason as AbortReason) : null);
    } finally {
      observeRun(ref, (performance.now() - runStarted) / 1000);
      this.running.delete(ref.id);
      ctx?.end();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }

  private check(queue: string, job: ExecutionJob): CheckedJob | JobRefusal {
    let checked = this.checks.get(job);
    if (!checked) this.checks.set(job, (checked = checkExecutionJob(queue, job)));
    return checked;
  }

  /** A pause was requested for an execution this worker may be running: its handler is told to checkpoint soon. */
  notePauseRequested(executionId: string): void {
    const ctx = this.running.get(executionId);
    if (ctx) ctx.pauseRequested = true;
    else this.noteRequestedAhead(executionId);
  }

  /**
   * A cancel or pause was requested of an execution whose job BullMQ was not running here: it may have
   * been picked here already, its start read before the request was made (see `pickedStart`).
   */
  noteRequestedAhead(executionId: string): void {
    const now = Date.now();
    for (const [id, heardAt] of this.heardAhead) {
      if (heardAt > now - heardAheadKeptMs) break;
      this.heardAhead.delete(id);
    }
    this.heardAhead.delete(executionId);
    this.heardAhead.set(executionId, now);
  }

  /** After BullMQ has stored the result; the tenant's slot is given back once the execution reads `completed`. */
  async completed(queue: string, job: ExecutionJob, result: unknown): Promise<void> {
    const checked = this.check(queue, job);
    if (isJobRefusal(checked)) return;
    try {
      const events = new ExecutionEvents(this.store, checked.ref, this.logger);
      const seq = await this.recordEnding(queue, job, events, endingOf.completed(result));
      if (seq !== null && checked.data.scheduleId) await this.schedules.recordOutcome(checked.data.scheduleId, checked.ref.tenant, 'completed');
    } finally {
      await this.concurrency.release(checked.ref);
    }
  }

  /** After BullMQ has stored a failed attempt; the tenant's slot is given back once it is recorded. */
  async failed(queue: string, job: ExecutionJob, error: Error): Promise<void> {
    const checked = this.check(queue, job);
    try {
      await this.recordFailure(queue, job, error, checked);
    } finally {
      if (!isJobRefusal(checked)) await this.concurrency.release(checked.ref);
    }
  }

  /** A final failure, cancellation or refusal (retries were announced before the job moved). */
  private async recordFailure(queue: string, job: ExecutionJob, error: Error, checked: CheckedJob | JobRefusal): Promise<void> {
    if (plannedRetryDelay(error) >= 0) return;
    if (isJobRefusal(checked)) return this.recordRefusal(queue, job, checked);
    const outcome: AttemptOutcome['conveyor'] = (error as Partial<AttemptOutcome>).conveyor ?? {
      error: describeFailure(error, null, null),
      attempt: job.attemptsMade,
      retryDelayMs: null,
    };
    const { ref } = checked;
    const events = new ExecutionEvents(this.store, ref, this.logger);
    const { cancelled } = outcome;
    const ending = cancelled ? endingOf.cancelled(cancelled.reason) : outcome.error && endingOf.failed(outcome.error, outcome.attempt);
    const seq = await this.recordEnding(queue, job, events, ending);
    if (seq !== null && !cancelled && checked.data.scheduleId) await this.schedules.recordOutcome(checked.data.scheduleId, ref.tenant, 'failed');
  }

  /**
   * The seq of the ending BullMQ's end of the job recorded (see JobMovesWithEvents); else (the job ended
   * without it: a repair of an earlier version's worker that died at the end, a refused job) of
   * `ending`, recorded now. `null` when none was written: the record was no longer active.
   */
  private async recordEnding(queue: string, job: ExecutionJob, events: ExecutionEvents, ending: Ending | null): Promise<number | null> {
    const recorded = this.moves.recordedBy(queue, job);
    if (recorded === undefined) {
      if (!ending) return null;
      const { type, data, fields, ts } = dated(ending, job.finishedOn ?? Date.now());
      return events.state(type, data, fields, activeStatuses, ts);
    }
    if (recorded.seq !== null) events.debug({ event: recorded.type, seq: recorded.seq }, recorded.type);
    return recorded.seq;
  }

  /**
   * A refused job that Conveyor itself created (a newer gateway's task or format, a task since
   * removed) ends its record `failed`, saying why. A job added by hand has no record, and none is
   * made from its fields.
   */
  private async recordRefusal(queue: string, job: ExecutionJob, refusal: JobRefusal): Promise<void> {
    const record = isId('execution', job.id) ? await this.store.read(queue, job.id!) : null;
    if (!record) return;
    const { id, task, tenant, scheduleId } = record;
    const error: ExecutionError = { message: refusal.message, name: 'JobRefusedError', code: refusal.code, retryable: false };
    const events = new ExecutionEvents(this.store, { id, queue, task, tenant, scheduleId }, this.logger);
    const seq = await this.recordEnding(queue, job, events, endingOf.failed(error, job.attemptsMade));
    if (seq !== null && scheduleId) await this.schedules.recordOutcome(scheduleId, tenant, 'failed');
  }

  /** A job that cannot be run fails at once, with the reason as BullMQ's `failedReason` (shown in Bull Board). */
  private refuse(queue: string, job: ExecutionJob, refusal: JobRefusal): UnrecoverableError {
    // A job added by hand has an id of its own, not an execution's.
    const id = isId('execution', job.id) ? { executionId: job.id } : { jobId: job.id };
    this.logger.warn({ ...id, queue, task: job.name, code: refusal.code, reason: refusal.message }, 'refused a malformed job');
    return new UnrecoverableError(`${refusal.message} (${refusal.code})`);
  }

  /**
   * Reads the start state as it records the start (see `ExecutionStore.startAttempt`), when the job's
   * fetch did not: a job without a record (added outside Conveyor) is adopted first, and a tenant with
   * `maxRunning` takes a slot first — after the check for a pending pause — or its execution is held.
   */
  private async startAttempt(job: ExecutionJob, token: string | undefined, events: ExecutionEvents, attempt: number): Promise<StartState> {
    const { ref } = events;
    if (await this.concurrency.isLimited(ref.tenant)) {
      await this.parkIfPauseRequested(job, token, events, await this.store.readStartState(ref));
      if (!(await this.concurrency.admit(ref, job.opts.priority ?? 0))) throw await this.hold(job, token, events);
    }
    let start = await this.store.startAttempt(ref, attempt);
    if (start.status === null) {
      await this.adopt(job, ref);
      start = await this.store.startAttempt(ref, attempt);
    }
    return start;
  }

  /**
   * The start recorded as BullMQ picked the job. Its tenant was not limited then, as its queue's set
   * of limited tenants said; a limit set meanwhile (the set follows the limits) takes a slot now.
   */
  private async pickedStart(job: ExecutionJob, token: string | undefined, events: ExecutionEvents, picked: StartReply): Promise<StartState> {
    const { ref } = events;
    let start = this.store.started(ref, picked);
    // A request heard before BullMQ handed the job over reached no handler: the record says it.
    if (this.heardAhead.delete(ref.id)) start = { ...start, pendingAction: (await this.store.readFields(ref.queue, ref.id, ['pendingAction']))?.pendingAction ?? null };
    if (start.pendingAction === 'pause' || !(await this.concurrency.isLimited(ref.tenant, { confirm: true }))) return start;
    if (!(await this.concurrency.admit(ref, job.opts.priority ?? 0))) throw await this.hold(job, token, events);
    return start;
  }

  /** What a start tells beside its event: a recovery's warning, and the first start's wait in the metrics. */
  private noteStart(job: ExecutionJob, events: ExecutionEvents, attempt: number, start: StartState): void {
    if (start.status === 'running' && start.pendingAction !== 'pause') {
      events.logger.warn({ attempt }, 'recovering an execution whose worker vanished');
    }
    // Its first start: waited since it was due (submitted, or its run-at).
    if (start.startedAt === null && start.pendingAction !== 'pause') observeQueueWait(events.ref, (Date.now() - job.timestamp - (job.opts.delay ?? 0)) / 1000);
    events.debug({ attempt }, 'attempt started');
  }

  /** A pause requested before the attempt began parks the job instead (announced unless it reads `paused` already). */
  private async parkIfPauseRequested(job: ExecutionJob, token: string | undefined, events: ExecutionEvents, start: StartState): Promise<void> {
    if (start.pendingAction === 'pause') throw await this.park(job, token, events, start.status !== 'paused');
  }

  /** Writes to the record (`write` says whether it exists); a job without one (added outside Conveyor) is adopted first. */
  private async adoptingIfNeeded(job: ExecutionJob, ref: ExecutionRef, write: () => Promise<boolean>): Promise<void> {
    if (await write()) return;
    await this.adopt(job, ref);
    await write();
  }

  /** Gives the worker slot back: the job waits, delayed by a sentinel, until `resume` promotes it. */
  private async park(job: ExecutionJob, token: string | undefined, events: ExecutionEvents, announce: boolean): Promise<DelayedError> {
    const now = Date.now();
    const fields: Partial<ExecutionRecord> = { status: 'paused', pendingAction: null, runAt: now };
    if (announce) await events.state('execution.paused', {}, fields);
    else await this.store.update(events.ref, fields);
    if (token) await job.moveToDelayed(now + parkedDelayMs, token);
    await this.concurrency.release(events.ref);
    return new DelayedError('Paused: parked until resumed');
  }

  /**
   * The tenant already runs as many executions as its `maxRunning` allows: this one waits parked like
   * a paused one (so it is not in the queue's waiting list), reading `queued`, until a slot is
   * reserved for it and its job promoted. Its place among the held was taken when it was refused.
   */
  private async hold(job: ExecutionJob, token: string | undefined, events: ExecutionEvents): Promise<DelayedError> {
    if (holdDelayForTest > 0) await sleep(holdDelayForTest);
    const now = Date.now();
    const waitingFor: WaitingFor = 'tenant_concurrency';
    // Written before the job is parked, so that whoever finds it parked knows why; announced once
    // parked, so that a reader answering the event finds it held.
    await this.adoptingIfNeeded(job, events.ref, () => this.store.update(events.ref, { status: 'queued', runAt: now, waitingFor }));
    if (token) await job.moveToDelayed(now + parkedDelayMs, token);
    await events.state('execution.queued', { status: 'queued', runAt: new Date(now).toISOString(), priority: job.opts.priority ?? 0, waitingFor }, {});
    await this.concurrency.parked(events.ref);
    return new DelayedError('Held: its tenant runs as many executions as it may');
  }

  /** A job added outside Conveyor (e.g. in Bull Board) gets a record, so that it can be followed like any other. */
  private async adopt(job: ExecutionJob, ref: ExecutionRef): Promise<void> {
    const now = Date.now();
    this.logger.info({ executionId: ref.id, queue: ref.queue, task: ref.task }, 'adopting a job added outside Conveyor');
    const priority = job.opts.priority ?? 0;
    await this.store.create(
      {
        ...ref,
        status: 'queued',
        priority,
        tags: [],
        // As its events say (from its job's data): its log's entries leave it to the record.
        scheduleId: ref.scheduleId ?? null,
        scheduledFor: null,
        createdAt: job.timestamp ?? now,
        runAt: now,
        startedAt: null,
        finishedAt: null,
        attemptsMade: 0,
        attemptsMax: job.opts.attempts ?? 1,
        progress: null,
        error: null,
        pendingAction: null,
        cancelReason: null,
      },
      { status: 'queued', runAt: new Date(now).toISOString(), priority },
    );
  }

  /** Reports a failed attempt and returns the error for BullMQ: retried after the announced delay, or final. */
  private async failAttempt(
    job: ExecutionJob,
    data: CheckedJob['data'],
    token: string | undefined,
    events: ExecutionEvents,
    attempt: number,
    thrown: unknown,
    abortReason: AbortReason | null,
  ) {
    if (abortReason === 'shutdown' || isRedisUnavailableError(thrown)) {
      // Not the handler's failure (the worker stops, or Redis failed under it): back to the queue; the
      // next attempt resumes from the last checkpoint.
      events.discard();
      const now = Date.now();
      const priority = job.opts.priority ?? 0;
      await events.state('execution.queued', { status: 'queued', runAt: new Date(now).toISOString(), priority }, { status: 'queued', runAt: now });
      if (token) await job.moveToWait(token);
      await this.concurrency.release(events.ref);
      return new DelayedError('Worker shut down, or Redis failed, during the attempt; the execution was queued again');
    }
    if (abortReason === 'pause') {
      await events.flush().catch((err) => events.logger.warn({ err }, 'progress not published'));
      return this.park(job, token, events, true);
    }
    if (abortReason === 'cancel') {
      await events.flush().catch((err) => events.logger.warn({ err }, 'progress not published'));
      const reason = (await this.store.readFields(events.ref.queue, events.ref.id, ['cancelReason']))?.cancelReason ?? null;
      this.moves.expect(job, events.ref, endingOf.cancelled(reason));
      return Object.assign(new UnrecoverableError('Cancelled'), { conveyor: { error: null, attempt, retryDelayMs: null, cancelled: { reason } } });
    }
    await events.flush().catch((err) => events.logger.warn({ err }, 'progress not published'));
    const error = describeFailure(thrown, abortReason, data.timeoutMs);
    const willRetry = error.retryable && attempt < (job.opts.attempts ?? 1);
    if (!willRetry) {
      this.moves.expect(job, events.ref, endingOf.failed(error, attempt));
      return finalFailure(error, attempt);
    }
    const retryDelayMs = retryDelay(data.backoff, attempt);
    // Dated as its retryAt is reckoned, so that the wait it announces is the delay itself.
    const now = Date.now();
    const retryAt = now + retryDelayMs;
    await events.state(
      'execution.retrying',
      { error, attempt, willRetry: true, retryAt: new Date(retryAt).toISOString() },
      { status: 'scheduled', error, runAt: retryAt },
      undefined,
      new Date(now).toISOString(),
    );
    return Object.assign(new Error(error.message), { conveyor: { error, attempt, retryDelayMs } });
  }
}

/**
 * The handler's outcome; once the signal aborts, its reason instead — after the handler stops, or
 * after `graceMs(reason)` if it does not (a handler may ignore the signal; its late result is discarded).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, graceMs: (reason: AbortReason) => number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const giveUp = () => reject(signal.reason);
    const onAbort = () => {
      const grace = graceMs(signal.reason as AbortReason);
      if (grace <= 0) return giveUp();
      setTimeout(giveUp, grace).unref();
      work.then(giveUp, giveUp);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => signal.aborted || resolve(value),
      (error) => signal.aborted || reject(error),
    );
  });
}

/** Another attempt would return the same oversize result: fail at once. */
function assertWithinLimit(result: unknown): void {
  const size = Buffer.byteLength(JSON.stringify(result) ?? '');
  if (size > limits.payloadBytes) {
    throw new NonRetryableError(`Result of ${size} bytes is over the ${limits.payloadBytes}-byte limit`, 'result_too_large');
  }
}
