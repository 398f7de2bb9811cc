import type { WebhookFilters } from '@conveyor/contracts/core';

/** A retry never waits longer than this, whatever the doubling or a `Retry-After` asks. */
export const maxRetryWaitMs = 60 * 60 * 1000;
/** Nor shorter than this: a `Retry-After: 0` or a past date would otherwise retry in a tight loop for the whole horizon. */
export const minRetryWaitMs = 1000;

/** Network errors (no status), timeouts, rate limits and server errors are worth another try; other answers are final. */
export function isRetryable(statusCode: number | null): boolean {
  return statusCode === null || statusCode === 408 || statusCode === 429 || statusCode >= 500;
}

/**
 * How long to wait after the `failures`-th failed attempt (1 = the first): `Retry-After` when the
 * receiver sent one (at least a second), else `baseMs` doubling per failure; at most an hour, and never
 * past the horizon (`msLeft`), so the last try is made as it ends. `null`: the horizon is over, give up.
 */
export function retryWait(failures: number, baseMs: number, msLeft: number, retryAfterMs: number | null): number | null {
  if (msLeft <= 0) return null;
  const wait = retryAfterMs === null ? baseMs * 2 ** Math.min(failures - 1, 30) : Math.max(retryAfterMs, minRetryWaitMs);
  return Math.min(wait, maxRetryWaitMs, msLeft);
}

/** A `Retry-After` header (seconds, or an HTTP date) in ms from `now`; `null` when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** What a filter is compared with: the execution's, or the schedule's template's, queue, task and tags. */
export interface EventSubject {
  queue: string | null;
  task: string | null;
  tags: readonly string[];
}

/** Whether an endpoint wants an event of `type` about `subject`: enabled, the type chosen, and every set filter matching. */
export function wantsEvent(endpoint: { enabled: boolean; events: readonly string[]; filters: WebhookFilters | null }, type: string, subject: EventSubject): boolean {
  if (!endpoint.enabled || !endpoint.events.includes(type)) return false;
  const { queue, task, tag } = endpoint.filters ?? {};
  return (queue === undefined || queue === subject.queue) && (task === undefined || task === subject.task) && (tag === undefined || subject.tags.includes(tag));
}
