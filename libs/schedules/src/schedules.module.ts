import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { EXECUTIONS_CORE, type ExecutionsCore } from '@conveyor/executions';
import { REDIS } from '@conveyor/redis';
import { TenantQuota, TenantsModule } from '@conveyor/tenants';
import { ScheduleHooks } from './schedule-hooks.js';
import { ScheduleService } from './schedule-service.js';
import { ScheduleStore } from './schedule-store.js';
import { ScheduleTicks } from './schedule-ticks.js';
import { createSchedulesCore } from './schedules-core.js';

const SCHEDULES_CORE = Symbol('SCHEDULES_CORE');
type SchedulesCore = ReturnType<typeof createSchedulesCore>;

/** Provides schedules (service, store, ticks) over the execution core; import after `ExecutionsCoreModule.forRoot`. */
@Module({
  imports: [TenantsModule],
  providers: [
    {
      provide: SCHEDULES_CORE,
      inject: [REDIS, EXECUTIONS_CORE, TenantQuota],
      useFactory: (redis: Redis, core: ExecutionsCore, quota: TenantQuota) => createSchedulesCore(redis, core, quota),
    },
    { provide: ScheduleStore, inject: [SCHEDULES_CORE], useFactory: (core: SchedulesCore) => core.scheduleStore },
    { provide: ScheduleService, inject: [SCHEDULES_CORE], useFactory: (core: SchedulesCore) => core.schedules },
    { provide: ScheduleTicks, inject: [SCHEDULES_CORE], useFactory: (core: SchedulesCore) => core.ticks },
    { provide: ScheduleHooks, inject: [SCHEDULES_CORE], useFactory: (core: SchedulesCore) => core.hooks },
  ],
  exports: [ScheduleStore, ScheduleService, ScheduleTicks, ScheduleHooks],
})
export class SchedulesModule implements OnApplicationShutdown {
  constructor(@Inject(ScheduleService) private readonly schedules: ScheduleService) {}

  async onApplicationShutdown(): Promise<void> {
    await this.schedules.ticks.close();
  }
}
