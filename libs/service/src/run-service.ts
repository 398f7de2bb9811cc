import { InvalidEnvironmentError, type TracingConfig } from '@conveyor/config';
import { startMetrics } from '@conveyor/metrics';
import { startTracing } from '@conveyor/tracing';
import { createLogger, type Logger } from './logger.js';
import { requireSupportedNode, tracingNeeds } from './node-version.js';

/**
 * Starts a service: checks the Node.js version and validates its environment first (an old Node or an
 * invalid environment prints what is wrong and exits 1, without a stack), turns metrics on (unless
 * configured off) and tracing on when configured (before `start` creates any queue or worker), then
 * runs `start` with a logger. A start-up failure exits 1 too.
 */
export async function runService<C extends { logLevel: Parameters<typeof createLogger>[1]; metrics: boolean; tracing?: TracingConfig | null }>(
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
  if (config.tracing) requireSupportedNode(service, tracingNeeds);
  const logger = createLogger(service, config.logLevel);
  startMetrics(config.metrics);
  try {
    await startTracing(config.tracing, logger);
    await start(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
