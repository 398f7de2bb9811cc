import { randomUUID } from 'node:crypto';
import {
  activeStatuses,
  findTask,
  ScheduleDefinitionError,
  ScheduleNotFoundError,
  ScheduleStateError,
  scheduleTickKeyPrefix,
  TenantLimitError,
  type EventDataMap,
  type ExecutionView,
  type ScheduleDefinition,
} from '@conveyor/contracts';
import { countTickFired, countTickSkipped } from '@conveyor/metrics';
import type { ExecutionReader, ExecutionSubmitter } from '@conveyor/executions';
import type { TenantQuota } from '@conveyor/tenants';
import type { ScheduleRecord } from './schedule-record.js';
import { runsSpent, type ScheduleService } from './schedule-service.js';
import type { ScheduleStore } from './schedule-store.js';
import { checkStoredDefinition } from './stored-definition.js';

/**
 * What a tick does — the same for BullMQ's ticks and for run-now: apply Conveyor's rules (state,
 * endAt, overlap, limit), then submit an ordinary execution with the idempotency key
 * `sch:<id>:<tickMs>`, so that a tick run twice never creates a second execution. The tenant's
 * limits admit it like any submission: a tick they refuse is skipped, a run-now refused throws.
 */
export class ScheduleTicks {
  /** Each schedule's stored definition as last checked, and the outcome (the tasks' classes do not change while a process runs). */
  private readonly checked = new Map<string, { stored: string; outcome: ReturnType<typeof checkStoredDefinition> }>();

  constructor(
    private readonly store: ScheduleStore,
    private readonly schedules: ScheduleService,
    private readonly submitter: ExecutionSubmitter,
    private readonly reader: ExecutionReader,
    private readonly quota: TenantQuota,
  ) {}

  /**
   * Returns the execution it fired, or `null` when the tick was skipped or had fired already. A
   * definition that no longer validates fires a run recorded `failed` (`invalid_schedule`); when even
   * its task is gone, there can be no run: the failure is counted and thrown (for the tick's log).
   * A `hook`'s run takes the hook's input, key and fingerprint instead of the tick's.
   */
  async fire(scheduleId: string, dueMs: number, manual: boolean, hook?: HookRun): Promise<ExecutionView | null> {
    const record = await this.store.read(scheduleId);
    if (!record || (!manual && record.state !== 'active')) return null;
    const checked = this.check(record);
    if (!checked.ok) return this.failRun(record, dueMs, manual, new ScheduleDefinitionError(record.id, checked.errors));
    const { definition, task } = checked.value;
    // A one-off tick is due at its `at` (its delayed job does not keep the time it was due).
    const tickMs = !manual && definition.at !== null ? Date.parse(definition.at) : dueMs;
    const scheduledFor = new Date(tickMs).toISOString();
    if (!manual && definition.endAt !== null && tickMs > Date.parse(definition.endAt)) {
      await this.schedules.finish(record);
      return null;
    }
    const blocking = definition.overlap === 'skip' && (await this.stillRunning(record));
    if (blocking) {
      // A repeat of the hook call that made the blocking run is answered that run, not skipped.
      if (hook && (await this.submitter.replayOf(hook.key, hook.fingerprint, record.tenant))) return null;
      await this.skip(record, definition, manual, { scheduledFor, reason: 'overlap', blockingExecutionId: record.lastExecutionId! });
      return null;
    }
    // Claimed before the submission, so that two late ticks processed at once cannot both take the last run.
    const claim = manual ? { runCount: record.runCount, resumed: false } : await this.store.claimRun(record.id, tickMs, definition.limit);
    if (!claim) return null;
    // A claim this try made is given back when the tick does not fire; an earlier try's goes on.
    const release = async () => {
      if (!manual && !claim.resumed) await this.store.releaseRun(record.id, tickMs);
    };
    const fired = await this.submitter
      .submitOnce(
        hook?.key ?? tickKey(record, tickMs, manual),
        hook?.fingerprint ?? 'tick',
        {
          task,
          input: (hook?.input ?? definition.input) as never,
          options: {
            priority: definition.priority ?? undefined,
            attempts: definition.attempts ?? undefined,
            backoff: definition.backoff ?? undefined,
            timeoutMs: definition.timeoutMs ?? undefined,
            tags: definition.tags,
            scheduleId: record.id,
            scheduledFor: new Date(tickMs),
          },
        },
        record.tenant,
        (create) => this.quota.admitAndCreate(record.tenant, 1, create),
      )
      .catch(async (error: unknown) => {
        if (manual || !(error instanceof TenantLimitError)) {
          await release();
          throw error;
        }
        // Refused: the tick's key was free, so no try of it made an execution, and the claim goes back
        // even when an earlier try made it.
        await this.store.releaseRun(record.id, tickMs);
        await this.skip(record, definition, manual, { scheduledFor, reason: 'quota_exceeded' });
        return null;
      });
    if (!fired) return null;
    // Not made now: this tick fired already (its claim goes back), unless an earlier try of it made
    // the execution and died before recording it, which is done now.
    if (!fired.created && !claim.resumed) {
      await release();
      return null;
    }
    await this.recordFired(record, definition, fired.execution, tickMs, manual, claim.runCount);
    return fired.execution;
  }

  /**
   * An inbound hook's call: a run-now with the hook's input, once per idempotency key. A repeat
   * answers the first execution before the overlap rule is applied; a call that rule skips is a
   * `409 schedule_overlap`.
   */
  async fireHook(scheduleId: string, hook: HookRun): Promise<{ execution: ExecutionView; created: boolean }> {
    const record = await this.store.read(scheduleId);
    if (!record) throw new ScheduleNotFoundError(scheduleId);
    const first = await this.submitter.replayOf(hook.key, hook.fingerprint, record.tenant);
    if (first) return { execution: first, created: false };
    const execution = await this.fire(scheduleId, Date.now(), true, hook);
    if (!execution) {
      // A call with the same key may have made its run since the check above.
      const made = await this.submitter.replayOf(hook.key, hook.fingerprint, record.tenant);
      if (made) return { execution: made, created: false };
      throw new ScheduleStateError('schedule_overlap', `Schedule ${scheduleId}'s previous run ${record.lastExecutionId} has not ended and its overlap is skip: no run was started.`);
    }
    return { execution, created: true };
  }

  /** `checkStoredDefinition` of the record's definition, checked again only when it has changed. */
  private check(record: ScheduleRecord): ReturnType<typeof checkStoredDefinition> {
    const stored = JSON.stringify(record.definition);
    const known = this.checked.get(record.id);
    if (known?.stored === stored) return known.outcome;
    const outcome = checkStoredDefinition(record.definition);
    if (this.checked.size >= checkedCacheSize) this.checked.delete(this.checked.keys().next().value!);
    this.checked.set(record.id, { stored, outcome });
    return outcome;
  }

  /** The run of a definition that no longer validates: recorded failed, with the task's defaults and none of its bad options. */
  private async failRun(record: ScheduleRecord, tickMs: number, manual: boolean, error: ScheduleDefinitionError): Promise<ExecutionView | null> {
    const task = findTask(String(record.definition?.task));
    if (!task) {
      await this.schedules.recordOutcome(record.id, record.tenant, 'failed');
      throw error;
    }
    const input = record.definition.input;
    const { execution, created } = await this.submitter.failOnce(
      tickKey(record, tickMs, manual),
      'tick',
      { task, input: (input && typeof input === 'object' ? input : {}) as never, options: { scheduleId: record.id, scheduledFor: new Date(tickMs) } },
      record.tenant,
      { name: error.name, code: error.code, message: error.message, retryable: false },
    );
    if (!created) return null;
    const { at, limit } = record.definition;
    const runCount = manual ? record.runCount : ((await this.store.claimRun(record.id, tickMs, null))?.runCount ?? record.runCount);
    await this.recordFired(record, { at: typeof at === 'string' ? at : null, limit: typeof limit === 'number' ? limit : null }, execution, tickMs, manual, runCount);
    await this.schedules.recordOutcome(record.id, record.tenant, 'failed');
    return execution;
  }

  /** `schedule.fired`, and the schedule finished when that was its last tick (`runCount`: the runs counted with this one). */
  private async recordFired(
    record: ScheduleRecord,
    definition: Pick<ScheduleDefinition, 'at' | 'limit'>,
    execution: ExecutionView,
    tickMs: number,
    manual: boolean,
    runCount: number,
  ): Promise<void> {
    // The claim ends as the run is recorded, in the same step: a worker that dies, or an event that
    // fails, before that leaves the claim open, and the tick's retry records the run without counting it again.
    const fired = { lastRunAt: Date.now(), lastExecutionId: execution.id, ...(manual || record.anchor !== null ? {} : { anchor: tickMs }) };
    const data = { executionId: execution.id, scheduledFor: new Date(tickMs).toISOString(), manual };
    await this.store.append(record, 'schedule.fired', data, fired, { settlesClaimOf: manual ? undefined : tickMs });
    countTickFired(manual, manual ? null : Date.now() - tickMs);
    // The record as it now reads (`schedule.fired` moves no `updatedAt`, so the finish's guard still holds).
    if (!manual && runsSpent(definition, runCount)) await this.schedules.finish({ ...record, ...fired, runCount });
  }

  /** `schedule.skipped`; a one-off schedule's only tick is then spent, so it finishes. */
  private async skip(record: ScheduleRecord, definition: Pick<ScheduleDefinition, 'at'>, manual: boolean, data: EventDataMap['schedule.skipped']): Promise<void> {
    await this.store.append(record, 'schedule.skipped', data, {});
    countTickSkipped(data.reason);
    if (!manual && definition.at !== null) await this.schedules.finish(record);
  }

  /** Whether the schedule's last execution has not ended yet. */
  private async stillRunning(record: ScheduleRecord): Promise<boolean> {
    if (!record.lastExecutionId) return false;
    const status = await this.reader.statusOf(record.lastExecutionId, record.tenant);
    return status !== null && activeStatuses.includes(status);
  }
}

/** What an inbound hook's call runs: the schedule's input with the call's patch applied (validated), under its own idempotency key. */
export interface HookRun {
  input: Record<string, unknown>;
  /** Reserved (`sch:`), so that no submission's key meets it. */
  key: string;
  /** The call's identity: the same key with another body is a `409 idempotency_conflict`. */
  fingerprint: string;
}

/** How many schedules' checked definitions a process keeps (the oldest checked goes first). */
const checkedCacheSize = 10_000;

/** The idempotency key of a tick: a tick run twice never makes a second execution. */
function tickKey(record: ScheduleRecord, tickMs: number, manual: boolean): string {
  return `${scheduleTickKeyPrefix}${record.id}:${tickMs}${manual ? ':manual' : ''}`;
}

/** The idempotency key of a hook's call: the caller's `Idempotency-Key`, or one of its own, under the hook. */
export function hookRunKey(scheduleId: string, hookId: string, idempotencyKey: string = randomUUID()): string {
  return `${scheduleTickKeyPrefix}${scheduleId}:${hookId}:${idempotencyKey}`;
}
