import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadMonitorConfig } from '@conveyor/config';
import { httpPlatform, PinoNestLogger, runService, serveHttp } from '@conveyor/service';
import { MonitorModule } from './monitor.module.js';

await runService('monitor', loadMonitorConfig, async (config, logger) => {
  const app = await NestFactory.create<NestFastifyApplication>(MonitorModule.forRoot(config, logger), httpPlatform(), { logger: new PinoNestLogger(logger) });
  await serveHttp(app, config.http, logger);
});
