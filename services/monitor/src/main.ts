import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadMonitorConfig } from '@conveyor/config';
import { httpPlatform, PinoNestLogger, runService, serveHttp, warnWhenOpen } from '@conveyor/service';
import { MonitorModule } from './monitor.module.js';
import { BrowserFacingIoAdapter } from './realtime/browser-facing-io-adapter.js';

await runService('monitor', loadMonitorConfig, async (config, logger) => {
  const app = await NestFactory.create<NestFastifyApplication>(MonitorModule.forRoot(config, logger), httpPlatform(logger), { logger: new PinoNestLogger(logger) });
  app.useWebSocketAdapter(new BrowserFacingIoAdapter(app, config.corsOrigins));
  warnWhenOpen(config, logger);
  await serveHttp(app, config.http, logger);
});
