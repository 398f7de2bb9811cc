import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { TenantLimitsStore } from './tenant-limits-store.js';

/** Tenant limits for a service built on the execution core (which provides Redis and the keys). */
@Module({
  providers: [{ provide: TenantLimitsStore, inject: [REDIS, RedisKeys], useFactory: (redis: Redis, keys: RedisKeys) => new TenantLimitsStore(redis, keys) }],
  exports: [TenantLimitsStore],
})
export class TenantsModule {}
