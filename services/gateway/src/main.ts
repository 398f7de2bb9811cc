import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadGatewayConfig } from '@conveyor/config';
import { limits } from '@conveyor/contracts';
import { PinoNestLogger, runService, serveHttp } from '@conveyor/service';
import { dashboardRoot } from './dashboard/dashboard.controller.js';
import { GatewayModule } from './gateway.module.js';
import { refuseHostileJson } from './http/request-guards.js';

await runService('gateway', loadGatewayConfig, async (config, logger) => {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
  });
  // Not strict: a JSON body that is no object (`false`, `"x"`) is valid JSON, refused by validation naming `(body)`.
  app.useBodyParser('json', { limit: limits.requestBodyBytes, strict: false });
  app.use(refuseHostileJson);
  app.enableCors({ origin: [...config.corsOrigins], allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-conveyor-request'], exposedHeaders: ['location', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'] });
  app.useStaticAssets(dashboardRoot, { prefix: '/ui' });
  await serveHttp(app, config.http, logger);
});
