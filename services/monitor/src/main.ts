import { NestFactory } from '@nestjs/core';
import { loadMonitorConfig } from '@conveyor/config';
import { PinoNestLogger, runService, serveHttp } from '@conveyor/service';
import { MonitorModule } from './monitor.module.js';

await runService('monitor', loadMonitorConfig, async (config, logger) => {
  const app = await NestFactory.create(MonitorModule.forRoot(config, logger), { logger: new PinoNestLogger(logger) });
  await serveHttp(app, config.http, logger);
});
