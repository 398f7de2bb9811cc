import { limits, type FieldError } from '@conveyor/contracts';

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
    /** How many more bad fields there were than `details` lists. */
    readonly detailsOmitted = 0,
    /** Headers the answer carries besides its body (`Retry-After` …). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** A `400 validation_failed` listing at most `limits.errorDetails` bad fields (and how many more there were). */
  static validation(details: FieldError[]): ApiError {
    const listed = details.slice(0, limits.errorDetails);
    const paths = [...new Set(listed.map((d) => d.path))];
    const fields = paths.length > 10 ? `${paths.slice(0, 10).join(', ')} and more` : paths.join(', ');
    return new ApiError(400, 'validation_failed', `The request is invalid: check ${fields}.`, listed, details.length - listed.length);
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
    return {
      statusCode: this.statusCode,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(this.detailsOmitted > 0 ? { detailsOmitted: this.detailsOmitted } : {}),
    };
  }
}
