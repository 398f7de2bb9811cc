import type { BrowserFacingConfig } from '@conveyor/config';
import type { Logger } from './logger.js';

/** Says once, at start, that anyone who can reach the service acts as an admin (auth off: loopback, no keys). */
export function warnWhenOpen(config: BrowserFacingConfig, logger: Logger): void {
  if (config.auth) return;
  logger.warn(
    { host: config.http.host },
    'auth is off: no API keys are set, so every caller on this machine acts as the admin of tenant "default" (set CONVEYOR_ADMIN_KEY and CONVEYOR_TOKEN_SECRET to turn it on)',
  );
}
