import { Controller, Get, Inject, Req } from '@nestjs/common';
import { fileURLToPath } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
// Its types add `reply.sendFile()`.
import type {} from '@fastify/static';
import type { GatewayConfig } from '@conveyor/config';
import { Access } from '@conveyor/service';
import { GATEWAY_CONFIG } from '../gateway-config.js';

/**
 * Serves the built dashboard (index.html and its bundle) at `/ui/`, where `/ui` redirects. The router
 * reads both as one path (a trailing slash is ignored), so one route tells them apart.
 */
export function serveDashboard(app: NestFastifyApplication): void {
  app.useStaticAssets({ root: fileURLToPath(new URL('../../ui/', import.meta.url)), prefix: '/ui/', dotfiles: 'ignore', index: false });
  app.getHttpAdapter().getInstance().get('/ui', (request, reply) => (request.url.split('?')[0].endsWith('/') ? reply.sendFile('index.html') : reply.redirect('/ui/', 301)));
}

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
  settings(@Req() request: FastifyRequest): DashboardSettings {
    const { monitor } = this.config;
    return {
      monitorUrl: 'url' in monitor ? monitor.url : `${request.protocol}://${request.hostname}:${monitor.port}`,
      bullBoardPath: '/admin/queues',
    };
  }
}
