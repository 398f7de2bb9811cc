import type { FieldError } from '@conveyor/contracts';

/**
 * A failure the API reports as `{ statusCode, code, message, details? }`.
 * Codes are stable: clients branch on them.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: FieldError[],
  ) {
    super(message);
  }

  static validation(details: FieldError[]): ApiError {
    const fields = [...new Set(details.map((d) => d.path))].join(', ');
    return new ApiError(400, 'validation_failed', `The request is invalid: check ${fields}.`, details);
  }

  static notFound(what: string): ApiError {
    return new ApiError(404, 'not_found', `${what} was not found.`);
  }

  static payloadTooLarge(message: string): ApiError {
    return new ApiError(413, 'payload_too_large', message);
  }

  static redisUnavailable(): ApiError {
    return new ApiError(503, 'redis_unavailable', 'Redis is unavailable; try again shortly.');
  }

  toBody() {
    return { statusCode: this.statusCode, code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}
