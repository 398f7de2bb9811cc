import type { Redis } from 'ioredis';
import type { ExecutionsCore } from '@conveyor/executions';
import type { TenantQuota } from '@conveyor/tenants';
import { ScheduleHooks } from './schedule-hooks.js';
import { ScheduleService } from './schedule-service.js';
import { ScheduleStore } from './schedule-store.js';
import { ScheduleTicks } from './schedule-ticks.js';

/** The schedules core over one Redis connection, on top of the execution core; its ticks are admitted by the tenants' `quota`. */
export function createSchedulesCore(redis: Redis, executions: ExecutionsCore, quota: TenantQuota) {
  const store = new ScheduleStore(redis, executions.keys);
  const hooks = new ScheduleHooks(redis, executions.keys);
  const service = new ScheduleService(store, hooks, executions.queues.connection, executions.keys);
  return { scheduleStore: store, hooks, schedules: service, ticks: new ScheduleTicks(store, service, executions.submitter, executions.reader, quota) };
}
