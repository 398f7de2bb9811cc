import type { BackoffPolicy } from '@conveyor/contracts';

/**
 * The wait before attempt `failedAttempt + 1`: `delayMs`, doubled for each earlier failure when
 * exponential; with jitter, drawn from [wait × (1 − jitter), wait]; custom: the `failedAttempt`-th
 * listed delay, the last one repeating.
 */
export function retryDelay(policy: BackoffPolicy, failedAttempt: number, random: () => number = Math.random): number {
  if (policy.type === 'custom') return policy.delaysMs[Math.min(failedAttempt, policy.delaysMs.length) - 1];
  const wait = policy.type === 'exponential' ? policy.delayMs * 2 ** (failedAttempt - 1) : policy.delayMs;
  const jitter = policy.jitter ?? 0;
  return Math.round(wait * (1 - jitter * random()));
}
