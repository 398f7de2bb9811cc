import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { MonitorConfig } from '@conveyor/config';
import { ExecutionsCoreModule } from '@conveyor/executions';
import { SchedulesModule } from '@conveyor/schedules';
import { ApiExceptionFilter, HealthController, LOGGER, MetricsController, type Logger } from '@conveyor/service';
import { MONITOR_CONFIG } from './monitor-config.js';
import { EventRelay } from './realtime/event-relay.js';
import { RealtimeGateway } from './realtime/realtime.gateway.js';
import { SocketAuthenticator } from './realtime/socket-authenticator.js';
import { IdentityModule } from '@conveyor/identity';

@Module({})
export class MonitorModule {
  static forRoot(config: MonitorConfig, logger: Logger): DynamicModule {
    return {
      module: MonitorModule,
      imports: [ExecutionsCoreModule.forRoot(config.redis, 'request'), IdentityModule.forRoot(config.auth), SchedulesModule],
      controllers: [HealthController, ...(config.metrics ? [MetricsController] : [])],
      providers: [
        { provide: MONITOR_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        EventRelay,
        RealtimeGateway,
        SocketAuthenticator,
      ],
    };
  }
}
