import { STATUS_CODES } from 'node:http';
import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse, getSchemaPath, type SchemaObject } from '@nestjs/swagger';
import { targetConstructorToSchema } from 'class-validator-jsonschema';

/** What a route's OpenAPI operation says beyond what its path, its `@Access` rule and its body already tell. */
export interface RouteDoc {
  summary: string;
  /** Each success status and the schema (a component's name) of its body; `null`: no body. */
  answers: Record<number, string | null>;
  /** The schema (a component's name) of the JSON body. */
  body?: string;
  /** The class-validator class the query string is parsed with: one parameter per property. */
  query?: new () => object;
  /** Refusals only this route answers (`409`, `429` …); those of every route of its kind are added with the document. */
  errors?: number[];
  /** Headers its success answers carry. */
  headers?: (keyof typeof answerHeaders)[];
  /** Its success answers are plain text (`answers` then names no schema). */
  text?: true;
}

const integerHeader = (description: string) => ({ description, schema: { type: 'integer' } });

/** Headers of answers, by name. */
const answerHeaders = {
  Location: { description: 'Where the new resource is read.', schema: { type: 'string' } },
  'RateLimit-Limit': integerHeader("The tenant's submit limit nearest exhaustion."),
  'RateLimit-Remaining': integerHeader('What is left of it.'),
  'RateLimit-Reset': integerHeader('Seconds until it is whole again.'),
  'Retry-After': integerHeader('Seconds to wait before trying again.'),
};
const rateLimitHeaderNames = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] as const;

/** Why a route may refuse, by status; the body is always the error envelope. */
export const refusals: Record<number, string> = {
  400: 'Invalid request (`validation_failed`: `details` names each bad field).',
  401: 'Missing or bad credential (`unauthorized`).',
  403: "The credential's role may not do this, or the request comes from an origin not allowed (`forbidden`).",
  404: 'Unknown or malformed id, or another tenant’s (`not_found`).',
  408: 'The request took too long to arrive (`request_timeout`).',
  409: 'Not in a state that allows it (`already_terminal`, `not_paused`, `idempotency_conflict`, `name_taken`, `invalid_schedule` …).',
  413: 'The body (1 MiB) or an input (256 KiB) is too large (`payload_too_large`).',
  415: 'The body is not JSON (`unsupported_media_type`).',
  429: "Over one of the tenant's limits (`rate_limited`, `quota_exceeded`), with `Retry-After`.",
  431: 'The request line and headers are larger than 16 KiB (`headers_too_large`).',
  500: 'Something went wrong on our side (`internal_error`); it was logged.',
  503: 'Redis is unavailable (`redis_unavailable`); try again shortly.',
};

/**
 * Documents a route in the gateway's OpenAPI document (`/docs`). Every route carries one, beside its
 * `@Get`/`@Post`: the route-coverage test names any route the document lacks. For example:
 *
 *   @ApiRoute({ summary: 'Pause a queue', answers: { 200: 'QueueView' } })
 *
 * Component names are those of the gateway's `viewSchemas` (answers) and request classes (bodies).
 */
export function ApiRoute({ summary, answers, body, query, errors = [], headers = [], text }: RouteDoc): MethodDecorator {
  const headersOf = (names: readonly (keyof typeof answerHeaders)[]) => (names.length ? { headers: Object.fromEntries(names.map((name) => [name, answerHeaders[name]])) } : {});
  const queryParameters = query ? Object.entries(targetConstructorToSchema(query).properties ?? {}).map(([name, schema]) => [name, schema as SchemaObject] as const) : [];
  return applyDecorators(
    ApiOperation({ summary }),
    ...(body ? [ApiBody({ schema: { $ref: getSchemaPath(body) } })] : []),
    // Lists are comma-separated (`status=queued,running`).
    ...queryParameters.map(([name, schema]) => ApiQuery({ name, required: false, schema, ...(schema.type === 'array' ? { style: 'form', explode: false } : {}) })),
    ...Object.entries(answers).map(([status, schema]) =>
      ApiResponse({
        status: Number(status),
        description: STATUS_CODES[status]!,
        ...headersOf(headers),
        ...(text ? { content: { 'text/plain': { schema: { type: 'string' } } } } : schema ? { schema: { $ref: getSchemaPath(schema) } } : {}),
      }),
    ),
    ...errors.map((status) =>
      ApiResponse({ status, description: refusals[status], ...headersOf(status === 429 ? ['Retry-After', ...rateLimitHeaderNames] : []), schema: { $ref: getSchemaPath('ApiError') } }),
    ),
  );
}
