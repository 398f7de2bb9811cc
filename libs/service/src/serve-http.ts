import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from './logger.js';
import { closeOnSignals } from './shutdown.js';

/** Listens, and announces `ready` with the URL. */
export async function serveHttp(app: INestApplication, http: { host: string; port: number }, logger: Logger): Promise<void> {
  closeOnSignals(app, logger);
  await app.listen(http.port, http.host);
  announceReady(logger, { url: boundUrl(app.getHttpServer().address() as AddressInfo) });
}

/** The URL of the address actually bound (Nest's `getUrl()` names loopback for every host). */
export function boundUrl({ address, family, port }: AddressInfo): string {
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}

/** The `ready` line launchers and tests wait for, whatever LOG_LEVEL says. */
export function announceReady(logger: Logger, fields: Record<string, unknown>): void {
  logger.child({}, { level: 'info' }).info(fields, 'ready');
}
