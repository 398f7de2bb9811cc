import type { RateLimitState, SubmitLimitName } from '../tenants/tenant.view.js';
import type { FieldError } from '../validation/validated.js';

/**
 * A refusal of Conveyor's domain (executions, schedules), free of any framework: `code` is stable
 * (clients branch on it) and `kind` says what went wrong, which each service's edge maps to its
 * status once (as bullmq's error classes and bull-board's stable error keys are mapped).
 */
export abstract class DomainError extends Error {
  abstract readonly kind: 'not_found' | 'conflict' | 'invalid' | 'unauthorized' | 'forbidden' | 'limited' | 'unavailable';

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An id names nothing the caller may see (unknown, or another tenant's). */
export class NotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(what: string) {
    super('not_found', `${what} was not found.`);
  }
}

export class ExecutionNotFoundError extends NotFoundError {
  constructor(readonly executionId: string) {
    super(`Execution ${executionId}`);
  }
}

export class ScheduleNotFoundError extends NotFoundError {
  constructor(readonly scheduleId: string) {
    super(`Schedule ${scheduleId}`);
  }
}

/** Codes of actions an execution's status does not allow. */
export type ExecutionStateCode = 'already_terminal' | 'already_paused' | 'not_paused' | 'not_retryable' | 'not_terminal';

/** The execution's status does not allow the action. */
export class ExecutionStateError extends DomainError {
  readonly kind = 'conflict';

  constructor(code: ExecutionStateCode, message: string) {
    super(code, message);
  }
}

/** An idempotency key was used for another request, or its first request is still being written. */
export class IdempotencyConflictError extends DomainError {
  readonly kind = 'conflict';

  constructor(message: string) {
    super('idempotency_conflict', message);
  }
}

/**
 * The schedule's name or state does not allow the change (`name_taken`, `schedule_finished`), or its
 * previous run is still going and its `overlap` is `skip` (`schedule_overlap`: a hook's call made no run).
 */
export class ScheduleStateError extends DomainError {
  readonly kind = 'conflict';

  constructor(code: 'name_taken' | 'schedule_finished' | 'schedule_overlap', message: string) {
    super(code, message);
  }
}

/** A stored schedule no longer validates (its task's input class got stricter, or its JSON was edited). */
export class ScheduleDefinitionError extends DomainError {
  readonly kind = 'conflict';

  constructor(
    readonly scheduleId: string,
    readonly problems: FieldError[],
  ) {
    super('invalid_schedule', `Schedule ${scheduleId} no longer validates: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}

/** Fields of a request a domain library checks itself (a list's cursor): the edge answers `400 validation_failed`. */
export class InvalidFieldsError extends DomainError {
  readonly kind = 'invalid';

  constructor(readonly details: FieldError[]) {
    super('validation_failed', `Invalid: ${details.map((d) => d.path).join(', ')}`);
  }
}

/** No credential, or one that is unknown, revoked or expired. */
export class UnauthorizedError extends DomainError {
  readonly kind = 'unauthorized';

  constructor(message = 'A valid API key or token is required (Authorization: Bearer <key>).') {
    super('unauthorized', message);
  }
}

/** An inbound hook's call carries a `Conveyor-Signature` that does not sign its body with the hook's secret (or is too old). */
export class InvalidSignatureError extends DomainError {
  readonly kind = 'unauthorized';

  constructor() {
    super('invalid_signature', 'The Conveyor-Signature header does not sign this body with the hook\'s secret, or its timestamp is more than 5 minutes away.');
  }
}

/** The credential is valid, but its role or scope does not allow the action. */
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';

  constructor(message: string) {
    super('forbidden', message);
  }
}

/** An admin wrote without naming the tenant the work belongs to (`?tenant=`). */
export class TenantRequiredError extends DomainError {
  readonly kind = 'invalid';

  constructor() {
    super('tenant_required', 'An admin key acts for every tenant: name the tenant this change belongs to with ?tenant=<name>.');
  }
}

/**
 * A tenant's limit refuses new executions for now: `rate_limited` (submitsPerSecond) or
 * `quota_exceeded` (executionsPerDay, maxQueued). Nothing was counted; try again after `retryAfterSeconds`.
 */
export class TenantLimitError extends DomainError {
  readonly kind = 'limited';

  constructor(
    code: 'rate_limited' | 'quota_exceeded',
    message: string,
    readonly retryAfterSeconds: number,
    /** The refusing limit, for the `RateLimit-*` headers. */
    readonly rateLimit: RateLimitState,
  ) {
    super(code, message);
  }
}

/** More new executions at once than a tenant's limit could ever let in: waiting would not help. */
export class BatchExceedsLimitError extends DomainError {
  readonly kind = 'invalid';

  constructor(limitName: SubmitLimitName, limit: number, count: number) {
    super('batch_exceeds_limit', `${count} executions at once can never fit the tenant's ${limitName} of ${limit}: send them in smaller batches.`);
  }
}

/**
 * Fewer replicas than asked (`REDIS_WAIT_REPLICAS`) confirmed new executions in time: they exist, but a
 * failover now could lose them. A retry with the same `Idempotency-Key` answers with the same ones.
 */
export class NotReplicatedError extends DomainError {
  readonly kind = 'unavailable';

  constructor(wanted: number, confirmed: number, timeoutMs: number) {
    super('not_replicated', `${confirmed} of ${wanted} Redis replicas confirmed the write within ${timeoutMs} ms; retry with the same Idempotency-Key.`);
  }
}

export class WebhookNotFoundError extends NotFoundError {
  constructor(readonly webhookId: string) {
    super(`Webhook ${webhookId}`);
  }
}
