import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { DomainError, InvalidFieldsError, TenantLimitError } from '@conveyor/contracts';
import { isRedisAvailable, REDIS } from '@conveyor/redis';
import { LOGGER, type Logger } from '../logger.js';
import { ApiError } from './api-error.js';
import { rateLimitHeaders, setHeaders } from './rate-limit-headers.js';

const redisDown = /Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Command timed out|ECONNREFUSED|ECONNRESET/;

/** Every error leaves a service as the contract's error body: never a stack, never HTML. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = this.toApiError(exception);
    if (error.statusCode >= 500) this.logger.error({ err: exception }, error.message);
    const response = host.switchToHttp().getResponse<Response>();
    setHeaders(response, error.headers);
    response.status(error.statusCode).json(error.toBody());
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof DomainError) return fromDomainError(exception);
    if (exception instanceof HttpException) return fromHttpException(exception);
    const message = exception instanceof Error ? exception.message : String(exception);
    if (!isRedisAvailable(this.redis) || redisDown.test(message)) return ApiError.redisUnavailable();
    return new ApiError(500, 'internal_error', 'Something went wrong on our side; the error was logged.');
  }
}

/** The status of each kind of domain refusal: the one place the libraries' errors meet HTTP. */
const statusOfKind: Record<DomainError['kind'], number> = { not_found: 404, conflict: 409, invalid: 400, unauthorized: 401, forbidden: 403, limited: 429 };

export function fromDomainError(error: DomainError): ApiError {
  if (error instanceof InvalidFieldsError) return ApiError.validation(error.details);
  if (error instanceof TenantLimitError) {
    const headers = { 'Retry-After': String(error.retryAfterSeconds), ...rateLimitHeaders(error.rateLimit) };
    return new ApiError(statusOfKind[error.kind], error.code, error.message, undefined, 0, headers);
  }
  return new ApiError(statusOfKind[error.kind], error.code, error.message);
}

export function fromHttpException(exception: HttpException): ApiError {
  const status = exception.getStatus();
  switch (status) {
    case 404:
      return new ApiError(404, 'not_found', 'No such endpoint.');
    case 413:
      return ApiError.payloadTooLarge('The request body is larger than 1 MiB.');
    case 400:
      // Raised before any handler runs: by the router for a bad percent-escape, else by the JSON body parser.
      if (exception.cause instanceof URIError) return new ApiError(400, 'invalid_path', 'The request path holds a malformed percent-escape.');
      return new ApiError(400, 'invalid_json', `The request body is not valid JSON: ${exception.message}`);
    default:
      return new ApiError(status, status >= 500 ? 'internal_error' : 'bad_request', exception.message);
  }
}
