import { InvalidEnvironmentError } from '@conveyor/config';
import { startMetrics } from '@conveyor/metrics';
import { createLogger, type Logger } from './logger.js';
import { requireSupportedNode } from './node-version.js';

/**
 * Starts a service: checks the Node.js version and validates its environment first (an old Node or an
 * invalid environment prints what is wrong and exits 1, without a stack), then turns metrics on (unless
 * configured off) and runs `start` with a logger. A start-up failure exits 1 too.
 */
export async function runService<C extends { logLevel: Parameters<typeof createLogger>[1]; metrics: boolean }>(
  service: string,
  loadConfig: () => C,
  start: (config: C, logger: Logger) => Promise<void>,
): Promise<void> {
  requireSupportedNode(service);
  let config: C;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(service, config.logLevel);
  startMetrics(config.metrics);
  try {
    await start(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
