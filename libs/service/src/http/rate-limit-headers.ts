import type { RateLimitState } from '@conveyor/contracts';

/** A reply on any HTTP platform: Express's response and Fastify's reply both have `header`. */
export interface HeaderReply {
  header(name: string, value: string): unknown;
}

/** The `RateLimit-*` headers of a submit answer; none when the tenant has no limit on submissions. */
export function rateLimitHeaders(state: RateLimitState | null): Record<string, string> {
  if (!state) return {};
  return { 'RateLimit-Limit': String(state.limit), 'RateLimit-Remaining': String(state.remaining), 'RateLimit-Reset': String(state.resetSeconds) };
}

export function setHeaders(reply: HeaderReply, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
}
