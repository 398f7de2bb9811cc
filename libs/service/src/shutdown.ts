import type { INestApplicationContext } from '@nestjs/common';
import { tracing } from '@conveyor/tracing';
import type { Logger } from './logger.js';

/**
 * On SIGTERM or SIGINT: close the app (each service's shutdown hooks run, e.g. the worker's grace
 * period), send the spans not sent yet, then exit 0 — or 1 if closing failed. A second signal exits at once.
 */
export function closeOnSignals(app: INestApplicationContext, logger: Logger): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    logger.info({ signal }, 'shutting down');
    app
      .close()
      // After the app: the spans of its shutdown go too. An unreachable collector does not fail the exit.
      .then(() => tracing().shutdown().catch((err: unknown) => logger.warn({ err }, 'spans not sent')))
      .then(
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
