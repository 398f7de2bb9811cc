import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from './logger.js';

/**
 * On SIGTERM or SIGINT: close the app (each service's shutdown hooks run, e.g. the worker's grace
 * period), then exit 0 — or 1 if closing failed. A second signal exits at once.
 */
export function closeOnSignals(app: INestApplicationContext, logger: Logger): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
