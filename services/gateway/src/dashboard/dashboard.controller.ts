import { Controller, Get, Inject, Req } from '@nestjs/common';
import { fileURLToPath } from 'node:url';
import type { Request } from 'express';
import type { GatewayConfig } from '@conveyor/config';
import { Access } from '@conveyor/service';
import { GATEWAY_CONFIG } from '../gateway-config.js';

/** The built dashboard (index.html and its bundle), served at `/ui`. */
export const dashboardRoot = fileURLToPath(new URL('../../ui/', import.meta.url));

/** What the dashboard reads before it starts. */
export interface DashboardSettings {
  /** Where the browser's socket.io connection goes. */
  monitorUrl: string;
  bullBoardPath: string;
}

@Controller('ui')
@Access('public')
export class DashboardController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get('settings.json')
  settings(@Req() request: Request): DashboardSettings {
    const { monitor } = this.config;
    return {
      monitorUrl: 'url' in monitor ? monitor.url : `${request.protocol}://${request.hostname}:${monitor.port}`,
      bullBoardPath: '/admin/queues',
    };
  }
}
