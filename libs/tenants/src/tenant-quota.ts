import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  BatchExceedsLimitError,
  catalogQueues,
  submitLimitNames,
  TenantLimitError,
  type ExecutionStatus,
  type RateLimitState,
  type SubmitLimitName,
  type TenantLimits,
  type TenantView,
} from '@conveyor/contracts';
import type { ExecutionStore } from '@conveyor/executions';
import { defineConveyorScripts, type RedisKeys } from '@conveyor/redis';
import { limitTooSmallFor, nearestExhaustion, secondsToNextUtcDay, stateOf, utcDay, type LimitUse } from './limit-use.js';
import type { TenantLimitsStore } from './tenant-limits-store.js';

/** A day's count outlives its day, so that it is still there for a read near midnight. */
export const dayCounterTtlSeconds = 2 * 24 * 60 * 60;

/** A sliding second is whole again within a second; `maxQueued` frees as executions start, at no known time: look again in a second. */
const shortResetSeconds = 1;

const refusals: Record<SubmitLimitName, { code: 'rate_limited' | 'quota_exceeded'; says: (use: LimitUse) => string }> = {
  submitsPerSecond: { code: 'rate_limited', says: ({ limit }) => `The tenant may submit ${limit} executions per second: try again in a second.` },
  executionsPerDay: { code: 'quota_exceeded', says: (use) => `The tenant may create ${use.limit} executions per day (UTC), ${stateOf(use).remaining} more today.` },
  maxQueued: { code: 'quota_exceeded', says: ({ limit, used }) => `The tenant may have ${limit} executions waiting (queued or scheduled); ${used} are.` },
};

/**
 * A tenant's limits on new executions (`submitsPerSecond`, `executionsPerDay`, `maxQueued`), asked by
 * every path that makes one: submits, batches, schedule ticks and run-now. The per-second window and
 * the day's count live in Redis, checked and counted by one script, so every gateway and worker
 * agrees. `maxQueued` is checked against the status counters before that script, so submissions in
 * flight at the same moment can each pass it and overshoot it by their number.
 */
export class TenantQuota {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly limits: TenantLimitsStore,
    private readonly store: ExecutionStore,
  ) {
    defineConveyorScripts(redis);
  }

  /**
   * Admits and counts `count` new executions of the tenant, all or none: a limit that refuses them
   * throws `TenantLimitError` (nothing is counted), a count no limit could ever allow throws
   * `BatchExceedsLimitError`. Returns the limit nearest exhaustion (`null`: no limit on submissions).
   */
  async admit(tenant: string, count: number): Promise<RateLimitState | null> {
    const limits = await this.limits.get(tenant);
    const tooSmall = limitTooSmallFor(limits, count);
    if (tooSmall) throw new BatchExceedsLimitError(tooSmall, limits[tooSmall]!, count);
    const { uses, refusedBy } = await this.measure(tenant, limits, count);
    if (refusedBy) {
      const { code, says } = refusals[refusedBy.name];
      throw new TenantLimitError(code, says(refusedBy), refusedBy.resetSeconds, stateOf(refusedBy));
    }
    return nearestExhaustion(uses);
  }

  /**
   * Admits `count` new executions, then makes them with `create`. With no submit limit on the tenant
   * nothing can refuse them, so the count goes out beside the writes, in the same round trip; a
   * create that then fails stays counted in the day's usage, and executions made are answered even
   * when their count failed (an error would have the client, or a tick's retry, make them again).
   */
  async admitAndCreate<T>(tenant: string, count: number, create: () => Promise<T>): Promise<{ created: T; admitted: RateLimitState | null }> {
    const limits = await this.limits.get(tenant);
    if (submitLimitNames.some((name) => limits[name] !== undefined)) {
      const admitted = await this.admit(tenant, count);
      return { created: await create(), admitted };
    }
    const [created] = await Promise.allSettled([create(), this.measure(tenant, limits, count)]);
    if (created.status === 'rejected') throw created.reason;
    return { created: created.value, admitted: null };
  }

  /** The limit nearest exhaustion, admitting nothing (for the answer to a repeated idempotent request). */
  async peek(tenant: string): Promise<RateLimitState | null> {
    return nearestExhaustion((await this.measure(tenant, await this.limits.get(tenant), 0)).uses);
  }

  /** New executions today (UTC), and the tenant's executions waiting (queued or scheduled) and running. */
  async usage(tenant: string): Promise<TenantView['usage']> {
    const [today, counts] = await Promise.all([this.redis.get(this.keys.tenantExecutionsOn(tenant, utcDay(Date.now()))), this.statusCounts(tenant)]);
    return { today: Number(today ?? 0), queued: waiting(counts), running: counts.running };
  }

  /** Each submit limit's use — with the `count` new ones once admitted, as it stood when refused — and the refusing limit. */
  private async measure(tenant: string, limits: TenantLimits, count: number): Promise<{ uses: LimitUse[]; refusedBy: LimitUse | null }> {
    const queued = limits.maxQueued === undefined ? null : useOf('maxQueued', limits, waiting(await this.statusCounts(tenant)), shortResetSeconds);
    if (queued && count > 0 && queued.used + count > queued.limit) return { uses: [queued], refusedBy: queued };
    const now = Date.now();
    const day = this.keys.tenantExecutionsOn(tenant, utcDay(now));
    const [refused, recent, today] =
      limits.submitsPerSecond === undefined && limits.executionsPerDay === undefined
        ? await this.countToday(day, count)
        : await this.redis.conveyorAdmitExecutions(
            this.keys.tenantRecentSubmissions(tenant),
            day,
            count,
            limits.submitsPerSecond ?? '',
            limits.executionsPerDay ?? '',
            dayCounterTtlSeconds,
            randomUUID(),
          );
    const perSecond = useOf('submitsPerSecond', limits, recent, shortResetSeconds);
    const perDay = useOf('executionsPerDay', limits, today, secondsToNextUtcDay(now));
    const queuedAfter = queued && refused === 0 ? { ...queued, used: queued.used + count } : queued;
    const uses = [perSecond, perDay, queuedAfter].filter((use): use is LimitUse => use !== null);
    return { uses, refusedBy: refused === 1 ? perSecond : refused === 2 ? perDay : null };
  }

  /**
   * Counts the new executions of a tenant without a limit on submissions: with nothing to check, two
   * commands do what the script would, for less of Redis's time. As the script's reply: { 0, 0, today }.
   */
  private async countToday(day: string, count: number): Promise<[number, number, number]> {
    if (count === 0) return [0, 0, 0];
    const [today] = await Promise.all([this.redis.incrby(day, count), this.redis.expire(day, dayCounterTtlSeconds, 'NX')]);
    return [0, 0, today];
  }

  private statusCounts(tenant: string): Promise<Record<ExecutionStatus, number>> {
    return this.store.statusCounts(catalogQueues, tenant);
  }
}

/** What `maxQueued` counts: executions waiting to run. */
function waiting(counts: Record<ExecutionStatus, number>): number {
  return counts.queued + counts.scheduled;
}

function useOf(name: SubmitLimitName, limits: TenantLimits, used: number, resetSeconds: number): LimitUse | null {
  const limit = limits[name];
  return limit === undefined ? null : { name, limit, used, resetSeconds };
}
