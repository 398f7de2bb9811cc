import { NonRetryableError, type ExecutionError } from '@conveyor/contracts';

/** Why an attempt ended before its handler did, as `ctx.signal.reason` tells the handler (`pause`: parked at a checkpoint). */
export type AbortReason = 'timeout' | 'cancel' | 'shutdown' | 'pause';

/** How a failed attempt is reported, and whether another attempt may follow. */
export function describeFailure(error: unknown, abortReason: AbortReason | null, timeoutMs: number | null): ExecutionError {
  if (abortReason === 'timeout') {
    return { name: 'TimeoutError', code: 'timeout', message: `Attempt timed out after ${timeoutMs} ms`, retryable: true };
  }
  if (error instanceof NonRetryableError) {
    return { name: error.name, message: error.message, ...(error.code ? { code: error.code } : {}), retryable: false };
  }
  if (error instanceof Error) {
    const { code } = error as { code?: unknown };
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}), retryable: true };
  }
  return { name: 'Error', message: String(error), retryable: true };
}
