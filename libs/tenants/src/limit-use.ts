import type { RateLimitState, SubmitLimitName, TenantLimits } from '@conveyor/contracts/core';
import { submitLimitNames } from '@conveyor/contracts/core';

const dayMs = 24 * 60 * 60 * 1000;

/** How much of one submit limit is used, and in how many seconds it is whole again. */
export interface LimitUse {
  name: SubmitLimitName;
  limit: number;
  used: number;
  resetSeconds: number;
}

/** The UTC calendar day of a moment (`2026-11-30`): `executionsPerDay` counts per UTC date. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whole seconds until the next UTC midnight, at least 1: when a day's count starts again. */
export function secondsToNextUtcDay(ms: number): number {
  return Math.ceil((dayMs - (ms % dayMs)) / 1000);
}

/**
 * The limit nearest exhaustion: the one with the fewest submissions left (what a client can still
 * send right away); on a tie, the one that takes longer to come back. `null` when none applies.
 */
export function nearestExhaustion(uses: readonly LimitUse[]): RateLimitState | null {
  const states = uses.map(stateOf);
  const nearer = (a: RateLimitState, b: RateLimitState) => a.remaining < b.remaining || (a.remaining === b.remaining && a.resetSeconds > b.resetSeconds);
  return states.reduce<RateLimitState | null>((nearest, state) => (nearest === null || nearer(state, nearest) ? state : nearest), null);
}

/** What the `RateLimit-*` headers say of one limit (a limit lowered below its use has 0 left). */
export function stateOf({ limit, used, resetSeconds }: LimitUse): RateLimitState {
  return { limit, remaining: Math.max(0, limit - used), resetSeconds };
}

/** The first submit limit that `count` executions at once could never fit in, however long one waited. */
export function limitTooSmallFor(limits: TenantLimits, count: number): SubmitLimitName | undefined {
  return submitLimitNames.find((name) => count > (limits[name] ?? Infinity));
}
