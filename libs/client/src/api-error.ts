/** A field the API named as bad: `{ path: 'input.steps', message: 'must not be greater than 10000' }`. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** An error answer of the Conveyor API (`{ statusCode, code, message, details? }`). */
export class ConveyorApiError extends Error {
  override readonly name = 'ConveyorApiError';

  constructor(
    readonly statusCode: number,
    /** Stable: `validation_failed`, `not_found`, `already_terminal`, `redis_unavailable` … */
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
    /** How many bad fields there were beyond the (at most 100) `details`. */
    readonly detailsOmitted = 0,
  ) {
    super(message);
  }
}
