/** Size limits of the public contract. */
export const limits = {
  requestBodyBytes: 1024 * 1024,
  payloadBytes: 256 * 1024,
  logLineBytes: 8 * 1024,
  tags: 20,
  tagLength: 64,
  batchSize: 1000,
  listDefault: 50,
  listMax: 500,
  /** `limit` at most, when a list includes inputs and results. */
  listMaxWithPayloads: 50,
  /** A list page that includes inputs and results stops early once its items reach this size. */
  listPageBytes: 8 * 1024 * 1024,
  /** Nesting levels of any JSON a service accepts (deeper: `400`, before any other work). */
  jsonDepth: 64,
  /** `details` listed in a `400` (the rest are counted in `detailsOmitted`). */
  errorDetails: 100,
  /** Subscriptions (executions, schedules, rooms) one socket may hold. */
  subscriptionsPerSocket: 1000,
  /** How far ahead `delayMs` and `runAt` may put an execution: 366 days. */
  delayMs: 366 * 24 * 60 * 60 * 1000,
} as const;

/**
 * A tag: 1–64 characters, no comma (lists are filtered by `?tag=a,b`), no control character, lone
 * surrogate or bidi control, no space at either end (filters are trimmed): what is accepted can be found.
 */
export const tagPattern = new RegExp(`^(?!\\s)[^,\\p{Cc}\\p{Cs}\\u202A-\\u202E\\u2066-\\u2069]{1,${limits.tagLength}}(?<!\\s)$`, 'u');

/**
 * An idempotency key: 1–200 characters, no control character or lone surrogate (Redis would store a
 * lone surrogate as U+FFFD, so two different keys would meet).
 */
export const idempotencyKeyPattern = /^[^\p{Cc}\p{Cs}]{1,200}$/u;
export const idempotencyKeyMessage = 'must be 1 to 200 characters, without control characters or lone surrogates';

/** Tenant names: also used in keys and rooms. */
export const tenantPattern = /^[a-z0-9-]{1,32}$/;
export const tenantMessage = 'must be 1 to 32 characters of a-z, 0-9 and -';
export const defaultTenant = 'default';


/** The tenants a read or an action covers: one, or `null` for every tenant (an admin's). */
export type TenantFilter = string | null;

export function inTenant(filter: TenantFilter, tenant: string): boolean {
  return filter === null || filter === tenant;
}
