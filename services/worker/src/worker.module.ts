import { Module, type DynamicModule } from '@nestjs/common';
import type { WorkerConfig } from '@conveyor/config';
import { ExecutionsCoreModule } from '@conveyor/executions';
import { LOGGER, type Logger } from '@conveyor/service';
import { WorkerHealth } from './health/worker-health.js';
import { SchedulesModule } from '@conveyor/schedules';
import { TenantsModule } from '@conveyor/tenants';
import { JobMovesWithEvents } from './runtime/job-moves-with-events.js';
import { OutsideChanges } from './runtime/outside-changes.js';
import { RetentionSweeper } from './runtime/retention-sweeper.js';
import { TaskRunner } from './runtime/task-runner.js';
import { TenantConcurrency } from './runtime/tenant-concurrency.js';
import { TickWorker } from './runtime/tick-worker.js';
import { UnrecordedEndings } from './runtime/unrecorded-endings.js';
import { WebhookWorkers } from './runtime/webhook-workers.js';
import { WorkerPool } from './runtime/worker-pool.js';
import { taskHandlers } from './tasks/task-handlers.js';
import { WORKER_CONFIG } from './worker-config.js';

@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ExecutionsCoreModule.forRoot(config.redis, 'worker'), SchedulesModule, TenantsModule],
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        ...Object.values(taskHandlers),
        TaskRunner,
        JobMovesWithEvents,
        TenantConcurrency,
        WorkerPool,
        RetentionSweeper,
        OutsideChanges,
        UnrecordedEndings,
        TickWorker,
        WebhookWorkers,
        WorkerHealth,
      ],
    };
  }
}
