/** One bad field of a request: `{ path: 'input.steps', message: 'must not be greater than 10000' }`. */
export interface FieldError {
  path: string;
  message: string;
}

/** A checked value, or every bad field of it. */
export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };
