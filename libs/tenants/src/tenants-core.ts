import type { Redis } from 'ioredis';
import type { ExecutionsCore } from '@conveyor/executions';
import { TenantLimitsStore } from './tenant-limits-store.js';
import { TenantQuota } from './tenant-quota.js';

/** Tenants' limits and the quota that holds new executions to them, over one Redis connection. */
export function createTenantsCore(redis: Redis, executions: Pick<ExecutionsCore, 'keys' | 'store'>) {
  const limits = new TenantLimitsStore(redis, executions.keys);
  return { limits, quota: new TenantQuota(redis, executions.keys, limits, executions.store) };
}

export type TenantsCore = ReturnType<typeof createTenantsCore>;
