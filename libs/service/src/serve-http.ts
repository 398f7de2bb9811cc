import type { INestApplication } from '@nestjs/common';
import type { Logger } from './logger.js';
import { closeOnSignals } from './shutdown.js';

/** Listens, and logs `ready` with the URL (the line launchers and tests wait for). */
export async function serveHttp(app: INestApplication, http: { host: string; port: number }, logger: Logger): Promise<void> {
  closeOnSignals(app, logger);
  await app.listen(http.port, http.host);
  logger.info({ url: await app.getUrl() }, 'ready');
}
