import { IsIn, IsInt, IsObject, IsOptional, IsUrl, Max, Min, ValidateBy } from 'class-validator';
import { SchemaHint } from '../validation/schema-hints.js';
import { defineTask, type } from './define-task.js';

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof httpMethods)[number];

const isStringMap = (value: unknown) =>
  typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');

export class HttpRequestInput {
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  url!: string;

  @IsOptional()
  @IsIn(httpMethods)
  method?: HttpMethod;

  @IsOptional()
  @IsObject()
  @ValidateBy({ name: 'isStringMap', validator: { validate: isStringMap, defaultMessage: () => 'must map header names to strings' } })
  @SchemaHint({ type: 'object', additionalProperties: { type: 'string' } })
  headers?: Record<string, string>;

  /** Sent as is when a string, as JSON otherwise. */
  @IsOptional()
  @ValidateBy({ name: 'isBody', validator: { validate: (v) => v !== null, defaultMessage: () => 'must not be null' } })
  @SchemaHint({ not: { type: 'null' }, description: 'Sent as is when a string, as JSON otherwise.' })
  body?: unknown;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(300_000)
  timeoutMs?: number;

  /** The one status that counts as success; without it any 2xx or 3xx does. */
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(599)
  expectStatus?: number;
}

export interface HttpRequestOutput {
  status: number;
  /** Repeated headers joined with `, `; `set-cookie` (and any credential header) reads `[redacted]`. */
  headers: Record<string, string>;
  /** Parsed when the response is JSON and whole, text otherwise (the first 64 KiB). */
  body: unknown;
  /** The response was longer than 64 KiB: the rest was never read, and the connection was closed. */
  truncated: boolean;
}

/**
 * Calls a URL on an allowed host (`HTTP_TASK_ALLOWED_HOSTS`) at a public address, or at one listed in
 * `EGRESS_ALLOW_PRIVATE`; the guard lives in `@conveyor/egress`.
 */
export const httpRequest = defineTask({
  name: 'http.request', // persisted: never rename (see task-catalog.ts)
  queue: 'http',
  version: 1,
  description: 'Calls an HTTP(S) URL on an allowed host; 5xx, 429 and network errors are retried.',
  input: HttpRequestInput,
  output: type<HttpRequestOutput>(),
  defaults: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.2 }, timeoutMs: 60_000, priority: 'normal' },
});

