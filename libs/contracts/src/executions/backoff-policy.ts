/**
 * How long to wait before the next attempt: `delayMs`, doubled per attempt when exponential; or, when
 * custom, the n-th retry waits `delaysMs[n - 1]` (the last one repeating).
 */
export type BackoffPolicy =
  | {
      type: 'exponential' | 'fixed';
      delayMs: number;
      /** 0–1: the wait is drawn from [delay × (1 − jitter), delay]. */
      jitter?: number;
    }
  | { type: 'custom'; delaysMs: number[] };

export const backoffTypes = ['exponential', 'fixed', 'custom'] as const;

/** How many steps a custom backoff may list. */
export const maxBackoffSteps = 20;

/** The longest wait any backoff may ask for between two attempts: one day. */
export const maxBackoffDelayMs = 24 * 60 * 60 * 1000;
