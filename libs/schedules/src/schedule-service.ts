import { setImmediate as nextTurn } from 'node:timers/promises';
import { Queue, type Job, type JobSchedulerJson, type RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { inTenant, newId, ScheduleNotFoundError, scheduleQueue, type TenantFilter, ScheduleStateError, type ScheduleDefinition, type ScheduleView } from '@conveyor/contracts';
import { countPausedAfterFailures } from '@conveyor/metrics';
import type { RedisKeys } from '@conveyor/redis';
import type { ScheduleHooks } from './schedule-hooks.js';
import type { ScheduleRecord } from './schedule-record.js';
import type { ScheduleStore } from './schedule-store.js';
import { nextCronTime, planTicks, type TickPlan } from './schedule-timing.js';

/** BullMQ job data of a tick. Persisted: add fields, never rename them. */
export interface TickJobData {
  v: 1;
  scheduleId: string;
}

export const tickJobName = 'tick';

/** The id of a scheduler's tick job due at `next`, as BullMQ names it (its `JobScheduler` does; a `Queue` does not reach that). */
export function schedulerTickId(schedulerId: string, next: number): string {
  return `repeat:${schedulerId}:${next}`;
}

/** The due time of a tick: a scheduler's tick job id ends with it (see `schedulerTickId`); a one-off tick's is its schedule's `at`. */
export function tickTime(job: Pick<Job, 'id' | 'timestamp'>): number {
  const iteration = /:(\d+)$/.exec(job.id ?? '');
  return iteration ? Number(iteration[1]) : job.timestamp;
}

/** How long `reconcile` leaves a changed schedule to the request changing it: one still registering its ticks. */
const reconcileSettleMs = 10_000;
/** The states of a tick job that will fire, or fires. */
const queuedStates = new Set<string>(['waiting', 'delayed', 'prioritized', 'active', 'waiting-children']);
/**
 * How many schedules `reconcile` reads at once. A pass costs the worker about 0.2 ms of CPU a schedule:
 * in small slices, each followed by a turn of the event loop, the ticks it runs meanwhile are not held up.
 */
const reconcileSlice = 10;
/**
 * A claim made longer ago than this was left by a tick that failed for good (a try that dies is
 * retried within a minute or so, and goes on with its claim, however late its tick): it no longer stops
 * a reconciliation from finishing a schedule whose runs are spent.
 */
const abandonedClaimMs = 60 * 60_000;

/** What a reconciliation changed: schedules whose ticks it registered, that it finished, whose stray scheduler it removed. */
export interface Reconciled {
  registered: number;
  finished: number;
  removed: number;
  /** The schedules it could not reconcile, and why. */
  failures: { scheduleId: string; error: unknown }[];
}

/** Schedules' life: create, read, enable, disable, delete, and their BullMQ tick registration. */
export class ScheduleService {
  readonly ticks: Queue<TickJobData>;

  constructor(
    private readonly store: ScheduleStore,
    private readonly hooks: ScheduleHooks,
    /** The connection of BullMQ's queues (see `ExecutionQueues`). */
    private readonly queueRedis: Redis,
    keys: RedisKeys,
  ) {
    this.ticks = new Queue<TickJobData>(keys.bullQueueName(scheduleQueue), { connection: queueRedis, prefix: keys.prefix });
  }

  async create(definition: ScheduleDefinition, enabled: boolean, tenant: string): Promise<ScheduleView> {
    const id = newId('schedule');
    if (!(await this.store.claimName(tenant, definition.name, id))) {
      throw nameTaken(definition.name);
    }
    const now = Date.now();
    const record: ScheduleRecord = {
      id,
      tenant,
      definition,
      state: enabled ? 'active' : 'disabled',
      enabled,
      seq: 0,
      runCount: 0,
      failureStreak: 0,
      lastRunAt: null,
      lastExecutionId: null,
      anchor: null,
      createdAt: now,
      updatedAt: now,
    };
    return this.changedAndRegistered(record, {}, 'create');
  }

  /** Replaces the definition (and the user's flag); the new trigger applies from the next tick. */
  async update(record: ScheduleRecord, definition: ScheduleDefinition, enabled: boolean): Promise<ScheduleView> {
    const renamed = definition.name !== record.definition.name;
    if (renamed && !(await this.store.claimName(record.tenant, definition.name, record.id))) {
      throw nameTaken(definition.name);
    }
    if (renamed) await this.store.releaseName(record.tenant, record.definition.name);
    const { cron, tz, every, at, runImmediately, startAt } = record.definition;
    const sameTrigger = JSON.stringify({ cron, tz, every, at, runImmediately, startAt }) ===
      JSON.stringify({ cron: definition.cron, tz: definition.tz, every: definition.every, at: definition.at, runImmediately: definition.runImmediately, startAt: definition.startAt });
    const state = !enabled ? 'disabled' : record.state === 'disabled' ? 'active' : record.state;
    return this.changedAndRegistered(record, { definition, enabled, state, anchor: sameTrigger ? record.anchor : null }, 'replace');
  }

  async get(id: string, tenant: TenantFilter): Promise<ScheduleRecord> {
    const record = await this.store.read(id);
    if (!record || !inTenant(tenant, record.tenant)) throw new ScheduleNotFoundError(id);
    return record;
  }

  async list(tenant: TenantFilter): Promise<ScheduleView[]> {
    const records = await Promise.all((await this.store.idsOf(tenant)).map((id) => this.store.read(id)));
    const present = records.filter((record): record is ScheduleRecord => record !== null).sort((a, b) => (a.id < b.id ? 1 : -1));
    return Promise.all(present.map((record) => this.view(record)));
  }

  /**
   * Turns it on (also clearing a failure pause), resuming from its next due time: no burst, and no run
   * at once but for a schedule that never ran, which starts as a new one would (see `planTicks`).
   */
  async enable(id: string, tenant: TenantFilter): Promise<ScheduleView> {
    const record = await this.get(id, tenant);
    if (record.state === 'finished') throw new ScheduleStateError('schedule_finished', `Schedule ${id} has finished.`);
    const fields = { enabled: true, state: 'active' as const, failureStreak: 0 };
    if (record.state === 'active') return this.changed(record, fields);
    return this.changedAndRegistered(record, fields);
  }

  async disable(id: string, tenant: TenantFilter): Promise<ScheduleView> {
    const record = await this.get(id, tenant);
    const view = await this.changed(record, { enabled: false, state: record.state === 'finished' ? 'finished' : 'disabled' });
    await this.unregister(record);
    return view;
  }

  async delete(id: string, tenant: TenantFilter): Promise<void> {
    const record = await this.get(id, tenant);
    await this.changed(record, { state: 'disabled', enabled: false });
    await this.unregister(record);
    await this.store.releaseName(record.tenant, record.definition.name);
    await this.hooks.forgetAll(record);
    await this.store.forget(record);
  }

  /**
   * A run of the schedule ended: a completion resets the failure streak, a failure adds to it and,
   * at `pauseAfterFailures`, pauses the schedule (`schedule.paused`); a cancellation does neither.
   */
  async recordOutcome(id: string, tenant: string, outcome: 'completed' | 'failed'): Promise<void> {
    // A job added by hand may name any schedule: only an existing one of its tenant counts it.
    const before = await this.store.tenantAndStreak(id);
    if (before?.tenant !== tenant) return;
    if (outcome === 'completed') {
      // Most runs end with no streak to reset: nothing is written then.
      if (before.failureStreak > 0) await this.store.update(id, { failureStreak: 0 });
      return;
    }
    const streak = await this.store.countFailure(id);
    const record = await this.store.read(id);
    const limit = record?.definition.pauseAfterFailures ?? null;
    if (!record || typeof limit !== 'number' || streak < limit || record.state !== 'active') return;
    await this.store.append(record, 'schedule.paused', { failureStreak: streak }, { state: 'paused-after-failures', updatedAt: Date.now() });
    await this.unregister(record);
    countPausedAfterFailures();
  }

  /**
   * Makes BullMQ's ticks match the stored schedules: registers the ticks of an active schedule that
   * has none, or whose scheduler repeats another trigger (a crash or a failed write between a change
   * and its registration, a scheduler removed in Bull Board); finishes one whose end passed with no
   * tick left to notice it; removes a scheduler that no schedule should have. Every change writes the
   * record before it touches the ticks, so a schedule changed in the last `settleMs` is left to the
   * change in flight. Idempotent, so every worker may run it at any time; one schedule that cannot be
   * reconciled is reported without stopping the rest.
   */
  async reconcile(settleMs = reconcileSettleMs): Promise<Reconciled> {
    const reconciled: Reconciled = { registered: 0, finished: 0, removed: 0, failures: [] };
    // The schedules', and any other scheduler's (one left by a schedule deleted meanwhile).
    const ids = [...new Set([...(await this.store.allIds()), ...(await this.queueRedis.zrange(this.ticks.keys.repeat, '0', '-1'))])];
    for (let at = 0; at < ids.length; at += reconcileSlice) {
      const slice = ids.slice(at, at + reconcileSlice);
      const outcomes = await Promise.allSettled(slice.map((id) => this.reconcileOne(id, settleMs)));
      outcomes.forEach((outcome, n) => {
        if (outcome.status === 'rejected') reconciled.failures.push({ scheduleId: slice[n], error: outcome.reason });
        else if (outcome.value) reconciled[outcome.value]++;
      });
      await nextTurn();
    }
    return reconciled;
  }

  private async reconcileOne(id: string, settleMs: number): Promise<'registered' | 'finished' | 'removed' | null> {
    const [record, scheduler] = await Promise.all([this.store.read(id), this.ticks.getJobScheduler(id)]);
    const now = Date.now();
    if (record && now - record.updatedAt < settleMs) return null;
    // Its last run fired but the tick that fired it did not finish it (it died, or the record changed meanwhile).
    if (record?.state === 'active' && runsSpent(record.definition, record.runCount) && !(await this.store.hasOpenClaims(id, now - abandonedClaimMs))) {
      return (await this.finish(record)) ? 'finished' : null;
    }
    const plan = record?.state === 'active' ? planTicks(record.definition, { from: now, anchor: record.anchor }) : null;
    if (plan?.kind !== 'scheduler' && scheduler) {
      await this.ticks.removeJobScheduler(id);
      return 'removed';
    }
    if (!record || !plan || plan.kind === 'none') return null;
    const end = record.definition.at ?? record.definition.endAt;
    const endMs = end === null ? null : Date.parse(end);
    // A tick still queued fires however late: a one-off, or a scheduler's next one due by the end (a
    // scheduler whose next tick is gone, its chain broken, is registered again).
    if (plan.kind === 'once' && (record.runCount > 0 || (await this.queued(onceJobId(id))))) return null;
    if (plan.kind === 'scheduler' && scheduler && repeatsAsPlanned(scheduler, plan.repeat) && (await this.nextTickQueued(scheduler))) {
      if (endMs === null || endMs >= now - settleMs || scheduler.next! <= endMs) return null;
    }
    if (endMs === null || endMs >= now) {
      await this.register(id, plan, now);
      return 'registered';
    }
    if (endMs >= now - settleMs) return null;
    return (await this.finish(record)) ? 'finished' : null;
  }

  /** Whether the scheduler's next tick is queued (to fire, however late), or the scheduler moved on since it was read. */
  private async nextTickQueued(scheduler: JobSchedulerJson): Promise<boolean> {
    if (typeof scheduler.next !== 'number') return false;
    if (await this.queued(schedulerTickId(scheduler.key, scheduler.next))) return true;
    return (await this.ticks.getJobScheduler(scheduler.key))?.next !== scheduler.next;
  }

  /** Whether the tick job waits to fire or is firing (not ended, nor gone). */
  private async queued(jobId: string): Promise<boolean> {
    return queuedStates.has(await this.ticks.getJobState(jobId));
  }

  /**
   * No more ticks: its limit is reached, its end passed, or its one tick fired. Written only while the
   * record is as read (its `updatedAt`), so that a change meanwhile stands (a later end, a higher limit,
   * a disable) and a tick and a reconciliation finishing it at once announce it once; `false` when
   * refused (a reconciliation finishes it later if it still should be).
   */
  async finish(record: ScheduleRecord): Promise<boolean> {
    if (!(await this.write(record, { state: 'finished' }, 'unchanged')).written) return false;
    await this.unregister(record);
    return true;
  }

  /** `plannedNextRunAt`: its next tick as planned, while BullMQ does not hold it yet (else read from BullMQ). */
  async view(record: ScheduleRecord, plannedNextRunAt?: number): Promise<ScheduleView> {
    return {
      ...record.definition,
      id: record.id,
      tenant: record.tenant,
      state: record.state,
      enabled: record.enabled,
      nextRunAt: plannedNextRunAt === undefined ? await this.nextRunAt(record) : iso(plannedNextRunAt),
      lastRunAt: iso(record.lastRunAt),
      runCount: record.runCount,
      failureStreak: record.failureStreak,
      seq: record.seq,
      createdAt: new Date(record.createdAt).toISOString(),
      updatedAt: new Date(record.updatedAt).toISOString(),
    };
  }

  /** Applies `fields`, with a `schedule.updated` event carrying the schedule as it now reads, without its input (which can be large). */
  private async changed(record: ScheduleRecord, fields: Partial<ScheduleRecord>, mode: 'create' | 'update' = 'update', plannedNextRunAt?: number): Promise<ScheduleView> {
    return (await this.write(record, fields, mode, plannedNextRunAt)).view;
  }

  /** `changed`, saying whether it wrote: `mode: 'unchanged'` writes only while the record is as read (its `updatedAt`). */
  private async write(record: ScheduleRecord, fields: Partial<ScheduleRecord>, mode: 'create' | 'update' | 'unchanged', plannedNextRunAt?: number) {
    const updated: ScheduleRecord = { ...record, ...fields, updatedAt: Date.now() };
    const view = await this.view({ ...updated, seq: record.seq + 1 }, plannedNextRunAt);
    const stored = mode === 'create' ? updated : { ...fields, updatedAt: updated.updatedAt };
    const { input: _input, ...schedule } = view;
    const seq = await this.store.append(record, 'schedule.updated', { schedule }, stored, { mode: mode === 'unchanged' ? { unchangedSince: record.updatedAt } : mode });
    return { view: { ...view, seq: seq ?? view.seq }, written: seq !== null };
  }

  /**
   * Applies `fields`, then (`replace`) removes the ticks of the schedule as it was, then registers
   * those of the schedule as it now reads when it is active. In that order, a tick due at once
   * (runImmediately) finds the record it fires; were the ticks first, it could find none, or the
   * definition before the change, and do nothing. Should a step fail after the write, the workers'
   * `reconcile` mends the ticks within seconds.
   */
  private async changedAndRegistered(record: ScheduleRecord, fields: Partial<ScheduleRecord>, mode: 'create' | 'update' | 'replace' = 'update'): Promise<ScheduleView> {
    const updated: ScheduleRecord = { ...record, ...fields };
    const from = Date.now();
    const plan = updated.state === 'active' ? planTicks(updated.definition, { from, anchor: updated.anchor }) : null;
    // An `every` schedule's next tick is BullMQ's to tell once registered; before, it is the plan's first.
    const view = await this.changed(record, fields, mode === 'create' ? 'create' : 'update', plan?.kind === 'scheduler' && plan.repeat.every ? Number(plan.repeat.startDate) : undefined);
    if (mode === 'replace') await this.unregister(record);
    if (plan) await this.register(record.id, plan, from);
    return view;
  }

  private async register(id: string, plan: TickPlan, from: number): Promise<void> {
    const data: TickJobData = { v: 1, scheduleId: id };
    if (plan.kind === 'scheduler') {
      await this.ticks.upsertJobScheduler(id, plan.repeat, { name: tickJobName, data, opts: { removeOnComplete: true, removeOnFail: 1000 } });
    } else if (plan.kind === 'once' && plan.at > from) {
      await this.ticks.add(tickJobName, data, { jobId: onceJobId(id), delay: plan.at - from, removeOnComplete: true, removeOnFail: 1000 });
    }
  }

  private async unregister(record: ScheduleRecord): Promise<void> {
    await this.ticks.removeJobScheduler(record.id);
    await this.ticks.remove(onceJobId(record.id));
  }

  private async nextRunAt(record: ScheduleRecord): Promise<string | null> {
    if (record.state !== 'active') return null;
    const { cron, tz, every, at, startAt } = record.definition;
    if (at !== null) return record.runCount > 0 ? null : at;
    if (cron !== null) return iso(nextCronTime(cron, tz, Math.max(Date.now(), startAt ? Date.parse(startAt) - 1 : 0)));
    if (every !== null) return iso((await this.ticks.getJobScheduler(record.id))?.next ?? null);
    return null;
  }
}

function nameTaken(name: string): ScheduleStateError {
  return new ScheduleStateError('name_taken', `A schedule named "${name}" already exists.`);
}

/** Whether a schedule's runs are all spent (`runCount`: those counted): its limit's, or a one-off's one. */
export function runsSpent(definition: Pick<ScheduleDefinition, 'at' | 'limit'>, runCount: number): boolean {
  return (definition.at !== null && runCount > 0) || (definition.limit !== null && runCount >= definition.limit);
}

/** Whether a registered scheduler repeats as the plan does (its first tick aside, which it may have passed). */
function repeatsAsPlanned(scheduler: JobSchedulerJson, repeat: Pick<RepeatOptions, 'every' | 'pattern' | 'tz' | 'endDate'>): boolean {
  const same = (a: unknown, b: unknown) => (a ?? null) === (b ?? null);
  return same(scheduler.every, repeat.every) && same(scheduler.pattern, repeat.pattern) && same(scheduler.tz, repeat.tz) && same(scheduler.endDate, repeat.endDate);
}

function onceJobId(scheduleId: string): string {
  return `${scheduleId}_once`;
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
