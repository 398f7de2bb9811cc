import { NestFactory } from '@nestjs/core';
import { loadMonitorConfig } from '@conveyor/config';
import { PinoNestLogger, runService, serveHttp } from '@conveyor/service';
import { MonitorModule } from './monitor.module.js';
import { BrowserFacingIoAdapter } from './realtime/browser-facing-io-adapter.js';

await runService('monitor', loadMonitorConfig, async (config, logger) => {
  const app = await NestFactory.create(MonitorModule.forRoot(config, logger), { logger: new PinoNestLogger(logger) });
  app.useWebSocketAdapter(new BrowserFacingIoAdapter(app, config.corsOrigins));
  await serveHttp(app, config.http, logger);
});
