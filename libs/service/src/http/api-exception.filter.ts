import { finished } from 'node:stream';
import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { DomainError, InvalidFieldsError, TenantLimitError } from '@conveyor/contracts';
import { isRedisAvailable, isRedisUnavailableError, REDIS } from '@conveyor/redis';
import { LOGGER, type Logger } from '../logger.js';
import { ApiError } from './api-error.js';
import { rateLimitHeaders, setHeaders } from './rate-limit-headers.js';

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
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    setHeaders(reply, error.headers);
    const send = () => void reply.status(error.statusCode).send(error.toBody());
    // Refused before its body was read (over the limit): read it off first, so that a client still
    // sending gets the answer rather than a reset connection.
    const { raw } = http.getRequest<FastifyRequest>();
    if (raw.complete) return send();
    finished(raw.resume(), send);
  }

  private toApiError(exception: unknown): ApiError {
    const known = knownApiError(exception);
    if (known) return known;
    if (!isRedisAvailable(this.redis) || isRedisUnavailableError(exception)) return ApiError.redisUnavailable();
    return new ApiError(500, 'internal_error', 'Something went wrong on our side; the error was logged.');
  }
}

/** The contract's error for what a route throws on purpose (a refusal); `null` for anything unexpected. */
export function knownApiError(exception: unknown): ApiError | null {
  if (exception instanceof ApiError) return exception;
  if (exception instanceof DomainError) return fromDomainError(exception);
  if (exception instanceof HttpException) return fromHttpException(exception);
  return null;
}

/** The status of each kind of domain refusal: the one place the libraries' errors meet HTTP. */
const statusOfKind: Record<DomainError['kind'], number> = { not_found: 404, conflict: 409, invalid: 400, unauthorized: 401, forbidden: 403, limited: 429, unavailable: 503 };

export function fromDomainError(error: DomainError): ApiError {
  if (error instanceof InvalidFieldsError) return ApiError.validation(error.details);
  if (error instanceof TenantLimitError) {
    const headers = { 'Retry-After': String(error.retryAfterSeconds), ...rateLimitHeaders(error.rateLimit) };
    return new ApiError(statusOfKind[error.kind], error.code, error.message, undefined, 0, headers);
  }
  return new ApiError(statusOfKind[error.kind], error.code, error.message);
}

/** Fastify's own refusals, raised before any handler runs, as the contract's errors (by Fastify's code). */
const platformErrors = new Map<unknown, ApiError>([
  ['FST_ERR_BAD_URL', new ApiError(400, 'invalid_path', 'The request path holds a malformed percent-escape.')],
  ['FST_ERR_CTP_BODY_TOO_LARGE', ApiError.payloadTooLarge('The request body is larger than 1 MiB.')],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', new ApiError(415, 'unsupported_media_type', 'The Content-Type header is not a valid media type.')],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', new ApiError(400, 'bad_request', 'The request body does not match its Content-Length.')],
  // A path that climbs out of the dashboard's folder names nothing there.
  ['FST_STATIC_FORBIDDEN_PATH', new ApiError(404, 'not_found', 'No such endpoint.')],
]);

/** The contract's error for one of Fastify's refusals; `undefined` for anything else. */
export function fromPlatformError(error: unknown): ApiError | undefined {
  return platformErrors.get((error as { code?: unknown } | undefined)?.code);
}

/** Nest wraps Fastify's refusals in an HTTP exception, the refusal as its cause. */
export function fromHttpException(exception: HttpException): ApiError {
  const platformError = fromPlatformError(exception.cause);
  if (platformError) return platformError;
  const status = exception.getStatus();
  if (status === 404) return new ApiError(404, 'not_found', 'No such endpoint.');
  return new ApiError(status, status >= 500 ? 'internal_error' : 'bad_request', exception.message);
}
