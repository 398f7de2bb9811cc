import { Controller, Get, Inject, Req } from '@nestjs/common';
import { fileURLToPath } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';
import helmet from '@fastify/helmet';
import type { FastifyRequest } from 'fastify';
// Its types add `reply.sendFile()`.
import type {} from '@fastify/static';
import type { GatewayConfig } from '@conveyor/config';
import { Access, ApiRoute } from '@conveyor/service';
import { GATEWAY_CONFIG } from '../gateway-config.js';

/**
 * Serves the built dashboard (index.html and its bundle) at `/ui/`, where `/ui` redirects. The router
 * reads both as one path (a trailing slash is ignored), so one route tells them apart. Everything under
 * `/ui` carries the security headers of a page: a CSP that lets it load only its own files and talk
 * only to the gateway and the monitor, no framing, no sniffing.
 */
export async function serveDashboard(app: NestFastifyApplication, config: GatewayConfig): Promise<void> {
  await app.register(helmet, {
    global: false,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", (request) => monitorOrigins(config, request as IncomingMessage)],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
      },
    },
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url?.toLowerCase().startsWith('/ui')) await reply.helmet();
  });
  app.useStaticAssets({ root: fileURLToPath(new URL('../../ui/', import.meta.url)), prefix: '/ui/', dotfiles: 'ignore', index: false });
  app.getHttpAdapter().getInstance().get('/ui', (request, reply) => (request.url.split('?')[0].endsWith('/') ? reply.sendFile('index.html') : reply.redirect('/ui/', 301)));
}

/** The monitor's URL for a page: `MONITOR_URL`, else (loopback set-ups only) the page's own host on `MONITOR_PORT`. */
function monitorUrl({ monitor }: GatewayConfig, protocol: string, hostname: string): string {
  return 'url' in monitor ? monitor.url : `${protocol}://${hostname}:${monitor.port}`;
}

/** The CSP sources of the monitor: its origin, over HTTP (polling) and WebSocket. */
function monitorOrigins(config: GatewayConfig, request: IncomingMessage): string {
  const host = `http://${request.headers.host ?? ''}`;
  const url = new URL(monitorUrl(config, 'http', URL.canParse(host) ? new URL(host).hostname : 'localhost'));
  return `${url.origin} ${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`;
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
  @ApiRoute({ summary: "The dashboard's settings", answers: { 200: 'DashboardSettings' } })
  settings(@Req() request: FastifyRequest): DashboardSettings {
    return {
      monitorUrl: monitorUrl(this.config, request.protocol, request.hostname),
      bullBoardPath: '/admin/queues',
    };
  }
}
