import type { Redis } from 'ioredis';
import { defineConveyorScripts, type RedisKeys } from '@conveyor/redis';

/**
 * A running execution's slot is leased: its worker renews the lease every `slotRenewalMs`, so the
 * slot of a worker that died lapses within `slotLeaseMs` and the reconciliation frees it.
 */
export const slotLeaseMs = 10_000;
export const slotRenewalMs = 3_000;
/** How long a slot reserved for a held execution waits for it to start before its job is checked on. */
export const reservationCheckMs = 2_000;
/** The most members one call hands back (held executions let go, reservations to check). */
const batchSize = 500;

/** An execution in a tenant's sets: `<id>/<queue>` (ids are ULIDs, so equal priorities sort by age). */
export function slotMember(execution: { id: string; queue: string }): string {
  return `${execution.id}/${execution.queue}`;
}

export function parseSlotMember(member: string): { id: string; queue: string } {
  const [id, queue] = member.split('/');
  return { id, queue };
}

/**
 * A tenant's `maxRunning` slots across all workers, kept under the tenant's own hash tag: the slots
 * (leased by the worker running the execution, or reserved for a held execution until it starts)
 * and the held executions, best first. Each change is one Lua script; whichever frees a slot gives
 * it to the best held execution at once, and returns the members whose jobs the caller must promote.
 */
export class TenantSlots {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: () => number = Date.now,
  ) {
    defineConveyorScripts(redis);
  }

  /**
   * Takes a slot for an execution about to start: the one reserved for it, or a free one that no
   * held execution comes before (by priority, then age). When it gets none it is held.
   */
  async admit(tenant: string, member: string, priority: number, maxRunning: number): Promise<{ admitted: boolean; promote: string[] }> {
    const now = this.clock();
    const [admitted, ...promote] = await this.redis.conveyorAdmitToSlot(
      ...this.tenantKeys(tenant),
      member,
      priority,
      maxRunning,
      now,
      now + slotLeaseMs,
      now + reservationCheckMs,
      batchSize,
    );
    return { admitted: admitted === 1, promote };
  }

  /** Whether a held execution got a slot reserved meanwhile (its job is then promoted by whoever checks). */
  async isReserved(tenant: string, member: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.tenantSlots(tenant), member)) !== null;
  }

  /** Gives up the execution's slot, reservation or place among the held; returns the members to promote. */
  release(tenant: string, member: string, maxRunning: number | undefined): Promise<string[]> {
    const now = this.clock();
    return this.redis.conveyorReleaseSlot(...this.tenantKeys(tenant), member, maxRunning ?? '', now, now + reservationCheckMs, batchSize);
  }

  /** Extends the leases of running executions (one that lapsed meanwhile stays lapsed). */
  async renew(tenant: string, members: string[]): Promise<void> {
    const leaseEnd = this.clock() + slotLeaseMs;
    await this.redis.zadd(this.keys.tenantSlots(tenant), 'XX', ...members.flatMap((member) => [leaseEnd, member]));
  }

  /**
   * Repairs what a crash or a race left: frees lapsed leases, gives free slots to held executions,
   * and hands back reservations due for a check. Returns the members to promote or check; without a
   * limit, every held execution and reservation, until each is released.
   */
  reconcile(tenant: string, maxRunning: number | undefined): Promise<string[]> {
    const now = this.clock();
    return this.redis.conveyorReconcileSlots(...this.tenantKeys(tenant), maxRunning ?? '', now, now + reservationCheckMs, batchSize);
  }

  /** Notes a tenant whose slots the reconciliation must visit. */
  async register(tenant: string): Promise<void> {
    await this.redis.sadd(this.keys.concurrencyTenants(), tenant);
  }

  tenants(): Promise<string[]> {
    return this.redis.smembers(this.keys.concurrencyTenants());
  }

  private tenantKeys(tenant: string): [string, string, string] {
    return [this.keys.tenantSlots(tenant), this.keys.tenantReservations(tenant), this.keys.tenantHeld(tenant)];
  }
}
