import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadGatewayConfig } from '@conveyor/config';
import { limits } from '@conveyor/contracts';
import { Authenticator } from '@conveyor/identity';
import { httpPlatform, PinoNestLogger, runService, serveHttp, warnWhenOpen } from '@conveyor/service';
import { bullBoardGate } from './auth/bull-board-gate.js';
import { serveDashboard } from './dashboard/dashboard.controller.js';
import { serveApiDocs } from './docs/api-docs.js';
import { OFFERED_TASKS } from './gateway-config.js';
import { GatewayModule } from './gateway.module.js';
import { acceptJsonBodies } from './http/json-body.js';
import { refuseHostileJson } from './http/request-guards.js';
import { hookCallRoute } from './schedules/schedule-hooks.controller.js';

await runService('gateway', loadGatewayConfig, async (config, logger) => {
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), httpPlatform(logger), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  acceptJsonBodies(fastify, limits.requestBodyBytes, { keepBytesOf: new Set([hookCallRoute]) });
  // Every route's, Bull Board's and the not-found handler's: added before any of them is.
  fastify.addHook('preValidation', refuseHostileJson);
  fastify.addHook('onRequest', bullBoardGate(app.get(Authenticator), config.corsOrigins));
  app.enableCors({ origin: [...config.corsOrigins], allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-conveyor-request'], exposedHeaders: ['location', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'] });
  await serveDashboard(app, config);
  serveApiDocs(app, app.get(OFFERED_TASKS));
  warnWhenOpen(config, logger);
  await serveHttp(app, config.http, logger);
});
