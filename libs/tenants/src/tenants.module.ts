import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { EXECUTIONS_CORE, type ExecutionsCore } from '@conveyor/executions';
import { REDIS } from '@conveyor/redis';
import { TenantLimitsStore } from './tenant-limits-store.js';
import { TenantQuota } from './tenant-quota.js';
import { TenantSlots } from './tenant-slots.js';
import { createTenantsCore, type TenantsCore } from './tenants-core.js';

const TENANTS_CORE = Symbol('TENANTS_CORE');

/** Tenant limits, quota and concurrency slots for a service built on the execution core (which provides Redis and the keys). */
@Module({
  providers: [
    { provide: TENANTS_CORE, inject: [REDIS, EXECUTIONS_CORE], useFactory: (redis: Redis, core: ExecutionsCore) => createTenantsCore(redis, core) },
    { provide: TenantLimitsStore, inject: [TENANTS_CORE], useFactory: (core: TenantsCore) => core.limits },
    { provide: TenantQuota, inject: [TENANTS_CORE], useFactory: (core: TenantsCore) => core.quota },
    { provide: TenantSlots, inject: [TENANTS_CORE], useFactory: (core: TenantsCore) => core.slots },
  ],
  exports: [TenantLimitsStore, TenantQuota, TenantSlots],
})
export class TenantsModule {}
