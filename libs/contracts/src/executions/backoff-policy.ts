/** How long to wait before the next attempt: `delayMs`, doubled per attempt when exponential. */
export interface BackoffPolicy {
  type: 'exponential' | 'fixed';
  delayMs: number;
  /** 0–1: the wait is drawn from [delay × (1 − jitter), delay]. */
  jitter?: number;
}

export const backoffTypes = ['exponential', 'fixed'] as const;
