import type { Redis } from 'ioredis';
import { tenantLimitNames, type TenantLimits } from '@conveyor/contracts/core';
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

  get(tenant: string): Promise<TenantLimits> {
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
    this.cache.forget(tenant);
    return limits;
  }

  private async read(tenant: string): Promise<TenantLimits> {
    const json = await this.redis.hget(this.keys.tenantLimits(), tenant);
    return json === null ? {} : (JSON.parse(json) as TenantLimits);
  }
}
