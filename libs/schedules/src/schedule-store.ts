import type { Redis } from 'ioredis';
import { decodeStored, encodeNumbered, scheduleQueue, type TenantFilter, type ConveyorEvent, type EventDataMap, type ScheduleEventType } from '@conveyor/contracts';
import { defineConveyorScripts, readEventLog, type EventLogPage, type RedisKeys } from '@conveyor/redis';
import { decodeSchedule, encodeSchedule, type ScheduleRecord } from './schedule-record.js';

/** How many events a schedule's log keeps. */
const scheduleEventCap = 1000;

/** Schedules' records, names and numbered events, under the schedule queue's hash tag. */
export class ScheduleStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    defineConveyorScripts(redis);
  }

  /** Claims the name for the tenant; `false` when another schedule has it. */
  async claimName(tenant: string, name: string, id: string): Promise<boolean> {
    const claimed = (await this.redis.hsetnx(this.keys.scheduleNames(scheduleQueue, tenant), name, id)) === 1;
    if (claimed) await this.redis.sadd(this.keys.scheduleIds(scheduleQueue), id);
    return claimed;
  }

  /** Every schedule's id, of all tenants. */
  allIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.scheduleIds(scheduleQueue));
  }

  async releaseName(tenant: string, name: string): Promise<void> {
    await this.redis.hdel(this.keys.scheduleNames(scheduleQueue, tenant), name);
  }

  /** The ids of a tenant's schedules (`null`: every tenant's). */
  async idsOf(tenant: TenantFilter): Promise<string[]> {
    if (tenant === null) return this.redis.smembers(this.keys.scheduleIds(scheduleQueue));
    return Object.values(await this.redis.hgetall(this.keys.scheduleNames(scheduleQueue, tenant)));
  }

  async read(id: string): Promise<ScheduleRecord | null> {
    return decodeSchedule(await this.redis.hgetall(this.keys.schedule(scheduleQueue, id)));
  }

  /** Who owns the schedule and its failure streak, without reading the rest; `null` when it is gone. */
  async tenantAndStreak(id: string): Promise<Pick<ScheduleRecord, 'tenant' | 'failureStreak'> | null> {
    const [tenant, failureStreak] = await this.redis.hmget(this.keys.schedule(scheduleQueue, id), 'tenant', 'failureStreak');
    return tenant ? { tenant, failureStreak: Number(failureStreak ?? 0) } : null;
  }

  /**
   * Appends a numbered event of the schedule and applies `fields`, atomically. `mode: 'create'` writes
   * a new record; `unchangedSince` updates only a record whose `updatedAt` is still that one.
   * `settlesClaimOf`: the event records the run of this tick, whose claim (see `claimRun`) it ends in
   * the same step. `null`: nothing written (the record is gone, or changed since).
   */
  async append<T extends ScheduleEventType>(
    record: Pick<ScheduleRecord, 'id' | 'tenant'>,
    type: T,
    data: EventDataMap[T],
    fields: Partial<ScheduleRecord>,
    { mode = 'update', settlesClaimOf }: { mode?: 'create' | 'update' | { unchangedSince: number }; settlesClaimOf?: number } = {},
  ): Promise<number | null> {
    const { route, head, tail } = encodeNumbered({ type, scheduleId: record.id, queue: scheduleQueue, tenant: record.tenant, data });
    const seq = await this.redis.conveyorAppendScheduleEvent(
      this.keys.schedule(scheduleQueue, record.id),
      this.keys.scheduleEvents(scheduleQueue, record.id),
      this.keys.eventsChannel(scheduleQueue),
      this.keys.hookedTenants(scheduleQueue),
      this.keys.outbox(scheduleQueue),
      this.keys.scheduleClaims(scheduleQueue, record.id),
      typeof mode === 'string' ? mode : `update@${mode.unchangedSince}`,
      route,
      head,
      tail,
      scheduleEventCap,
      record.tenant,
      settlesClaimOf ?? '',
      ...encodeSchedule(fields),
    );
    return seq < 0 ? null : seq;
  }

  readEvents(id: string, since: number): Promise<EventLogPage<ConveyorEvent>> {
    return readEventLog<ConveyorEvent>(this.redis, this.keys.scheduleEvents(scheduleQueue, id), since, scheduleEventCap, decodeStored);
  }

  /** Applies `fields` without an event. */
  async update(id: string, fields: Partial<ScheduleRecord>): Promise<void> {
    await this.redis.hset(this.keys.schedule(scheduleQueue, id), ...encodeSchedule(fields));
  }

  /**
   * Claims the tick's run before it submits: the run count with it, and whether an earlier try of
   * the same tick had claimed it (then it goes on with that claim); `null` when `limit` runs were
   * counted already, or the schedule is gone.
   */
  async claimRun(id: string, tickMs: number, limit: number | null): Promise<{ runCount: number; resumed: boolean } | null> {
    const [runCount, resumed] = await this.claim(id, 'claim', tickMs, limit);
    return runCount < 0 ? null : { runCount, resumed: resumed === 1 };
  }

  /** Gives back the run a tick claimed but did not fire after all. */
  async releaseRun(id: string, tickMs: number): Promise<void> {
    await this.claim(id, 'release', tickMs, null);
  }

  /**
   * Whether a claim made since `since` is still open: its tick's run is being submitted, or a try of it
   * is to be retried. (Claims made by versions before this one are dated by their tick's due time.)
   */
  async hasOpenClaims(id: string, since: number): Promise<boolean> {
    return (await this.redis.zcount(this.keys.scheduleClaims(scheduleQueue, id), since, '+inf')) > 0;
  }

  private claim(id: string, action: 'claim' | 'release', tickMs: number, limit: number | null) {
    return this.redis.conveyorClaimScheduleRun(this.keys.schedule(scheduleQueue, id), this.keys.scheduleClaims(scheduleQueue, id), action, tickMs, limit ?? '', Date.now());
  }

  /** Adds one to the failure streak, returning it. */
  async countFailure(id: string): Promise<number> {
    return this.redis.hincrby(this.keys.schedule(scheduleQueue, id), 'failureStreak', 1);
  }

  async forget(record: Pick<ScheduleRecord, 'id'>): Promise<void> {
    await this.redis.del(
      this.keys.schedule(scheduleQueue, record.id),
      this.keys.scheduleEvents(scheduleQueue, record.id),
      this.keys.scheduleClaims(scheduleQueue, record.id),
    );
    await this.redis.srem(this.keys.scheduleIds(scheduleQueue), record.id);
  }
}
