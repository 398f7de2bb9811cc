import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Injection token of the process's pino logger. */
export const LOGGER = Symbol('LOGGER');

/**
 * Fields that may hold a credential, wherever a log call puts them: their values are replaced. No log
 * call is meant to pass any; this is the net under them (a request's headers, a config object, an error
 * carrying its request's options).
 */
const secretFields = ['authorization', 'cookie', 'apiKey', 'adminKey', 'tenantKeys', 'token', 'tokenSecret', 'secret', 'password'];

/** Where the fields are redacted: at the top of a line and up to three levels down (`err.options.headers.authorization`). */
export const redactedPaths = ['', '*.', '*.*.', '*.*.*.'].flatMap((at) => secretFields.map((field) => at + field));

/** JSON lines on stdout (or `destination`), one logger per process, named after the service. */
export function createLogger(service: string, level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    destination ?? pino.destination(1),
  );
}

/** Routes Nest's own logging into pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]) {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.write('fatal', message, params);
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, params: unknown[]) {
    // Nest passes the context name last, and for errors a stack before it.
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const stack = params.length > 1 && typeof params[0] === 'string' ? params[0] : undefined;
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else this.logger[level]({ context, stack }, String(message));
  }
}
