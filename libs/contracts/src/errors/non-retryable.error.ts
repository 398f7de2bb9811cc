/** Thrown by a handler to fail the execution at once, without further attempts. */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';

  constructor(
    message: string,
    /** Stable, machine-readable reason shown as `error.code`. */
    readonly code?: string,
  ) {
    super(message);
  }
}
