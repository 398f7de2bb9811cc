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

/** Tenant names: also used in keys and rooms. */
export const tenantPattern = /^[a-z0-9-]{1,32}$/;
export const defaultTenant = 'default';

