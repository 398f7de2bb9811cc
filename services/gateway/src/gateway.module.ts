import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import type { GatewayConfig } from '@conveyor/config';
import { offeredTasks } from '@conveyor/contracts';
import { ExecutionsCoreModule } from '@conveyor/executions';
import { ApiExceptionFilter, HealthController, LOGGER, MetricsController, type Logger } from '@conveyor/service';
import { IdentityModule } from '@conveyor/identity';
import { TenantsModule } from '@conveyor/tenants';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { tracing } from '@conveyor/tracing';
import { WebhookStore } from '@conveyor/webhooks';
import type { Redis } from 'ioredis';
import { AuthGuard } from './auth/auth.guard.js';
import { IdentityController } from './auth/identity.controller.js';
import { SessionController } from './auth/session.controller.js';
import { BullBoardAdminModule } from './admin/bull-board.module.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { ExecutionsController } from './executions/executions.controller.js';
import { GATEWAY_CONFIG, OFFERED_TASKS } from './gateway-config.js';
import { TracedRequests } from './http/traced-requests.js';
import { QueueDepthMetrics } from './metrics/queue-depth.js';
import { SchedulesModule } from '@conveyor/schedules';
import { QueuesController } from './queues/queues.controller.js';
import { ScheduleHooksController } from './schedules/schedule-hooks.controller.js';
import { SchedulesController } from './schedules/schedules.controller.js';
import { QueuesService } from './queues/queues.service.js';
import { TasksController } from './tasks/tasks.controller.js';
import { TenantsController } from './tenants/tenants.controller.js';
import { WebhookDeliveries } from './webhooks/webhook-deliveries.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ExecutionsCoreModule.forRoot(config.redis, 'request', { idempotencyTtlMs: config.idempotencyTtlMs }),
        IdentityModule.forRoot(config.auth),
        BullBoardAdminModule,
        SchedulesModule,
        TenantsModule,
      ],
      controllers: [
        IdentityController,
        SessionController,
        ExecutionsController,
        SchedulesController,
        ScheduleHooksController,
        QueuesController,
        TasksController,
        TenantsController,
        WebhooksController,
        HealthController,
        DashboardController,
        ...(config.metrics ? [MetricsController] : []),
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: OFFERED_TASKS, useValue: offeredTasks(config.demoTasks) },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_GUARD, useClass: AuthGuard },
        ...(tracing().on ? [{ provide: APP_INTERCEPTOR, useClass: TracedRequests }] : []),
        QueuesService,
        ...(config.metrics ? [QueueDepthMetrics] : []),
        { provide: WebhookStore, inject: [REDIS, RedisKeys], useFactory: (redis: Redis, keys: RedisKeys) => new WebhookStore(redis, keys) },
        WebhookDeliveries,
      ],
    };
  }
}
