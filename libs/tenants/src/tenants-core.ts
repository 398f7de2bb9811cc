import type { Redis } from 'ioredis';
import type { ExecutionsCore } from '@conveyor/executions';
import { TenantLimitsStore } from './tenant-limits-store.js';
import { TenantQuota } from './tenant-quota.js';
import { TenantSlots } from './tenant-slots.js';

/** Tenants' limits, the quota that holds new executions to them and their concurrency slots, over one Redis connection. */
export function createTenantsCore(redis: Redis, executions: Pick<ExecutionsCore, 'keys' | 'store'>) {
  const limits = new TenantLimitsStore(redis, executions.keys);
  return { limits, quota: new TenantQuota(redis, executions.keys, limits, executions.store), slots: new TenantSlots(redis, executions.keys) };
}

export type TenantsCore = ReturnType<typeof createTenantsCore>;
