import type { Redis } from 'ioredis';
import { tenantLimitNames, type TenantLimits } from '@conveyor/contracts/core';
import { catalogQueues } from '@conveyor/contracts';
import { FreshCache, type RedisKeys } from '@conveyor/redis';

/** How long a tenant's limits are trusted once read: a change applies everywhere within a second. */
export const limitsFreshnessMs = 500;

/** Each tenant's limits, set by an admin, read on every submit (from a short-lived cache). */
export class TenantLimitsStore {
  private readonly cache = new FreshCache<TenantLimits>(limitsFreshnessMs);

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** From the cache, unless `fresh`: then read now (and cached again). */
  get(tenant: string, { fresh = false } = {}): Promise<TenantLimits> {
    if (fresh) this.cache.forget(tenant);
    return this.cache.get(tenant, () => this.read(tenant));
  }

  /** Applies a change: a number sets a limit, `null` clears it, an absent one stays. */
  async update(tenant: string, change: { [K in keyof TenantLimits]?: number | null }): Promise<TenantLimits> {
    const limits: TenantLimits = { ...(await this.read(tenant)) };
    for (const name of tenantLimitNames) {
      const value = change[name];
      if (value === null) delete limits[name];
      else if (value !== undefined) limits[name] = value;
    }
    await this.redis.hset(this.keys.tenantLimits(), tenant, JSON.stringify(limits));
    await Promise.all(catalogQueues.map((queue) => this.markLimited(queue, limits.maxRunning === undefined ? [] : [tenant], [tenant])));
    this.cache.forget(tenant);
    return limits;
  }

  /**
   * Brings each queue's set of tenants with `maxRunning` (see `RedisKeys.limitedTenants`) in line with
   * the limits: the sets are written after them, so a crash in between, or a gateway of an earlier
   * version, leaves them behind until this runs.
   */
  async syncLimitedTenants(): Promise<void> {
    // The sets first: a tenant added to them after this read has its limit written already, and stays.
    const members = await Promise.all(catalogQueues.map((queue) => this.redis.smembers(this.keys.limitedTenants(queue))));
    const limited = await this.limitedTenants();
    await Promise.all(catalogQueues.map((queue, i) => this.markLimited(queue, limited, members[i])));
    // A limit removed since the read above had its tenant taken out of the sets, maybe before this put it back.
    const still = new Set(await this.limitedTenants());
    const lifted = limited.filter((tenant) => !still.has(tenant));
    if (lifted.length > 0) await Promise.all(catalogQueues.map((queue) => this.markLimited(queue, [], lifted)));
  }

  /** The tenants with `maxRunning`. */
  private async limitedTenants(): Promise<string[]> {
    const all = await this.redis.hgetall(this.keys.tenantLimits());
    return Object.keys(all).filter((tenant) => (JSON.parse(all[tenant]) as TenantLimits).maxRunning !== undefined);
  }

  /** Of `tenants`, those in `limited` are in the queue's set of limited tenants, the rest not. */
  private async markLimited(queue: string, limited: readonly string[], tenants: readonly string[]): Promise<void> {
    const key = this.keys.limitedTenants(queue);
    const unlimited = tenants.filter((tenant) => !limited.includes(tenant));
    await Promise.all([limited.length > 0 && this.redis.sadd(key, ...limited), unlimited.length > 0 && this.redis.srem(key, ...unlimited)]);
  }

  private async read(tenant: string): Promise<TenantLimits> {
    const json = await this.redis.hget(this.keys.tenantLimits(), tenant);
    return json === null ? {} : (JSON.parse(json) as TenantLimits);
  }
}
