/** What a tenant may use; an absent limit does not apply. */
export interface TenantLimits {
  /** New executions per second (a sliding second). */
  submitsPerSecond?: number;
  /** New executions per calendar day, UTC. */
  executionsPerDay?: number;
  /** Executions waiting to run (queued or scheduled) at once. */
  maxQueued?: number;
  /** Executions running at once, across all workers; the others wait, `waitingFor: 'tenant_concurrency'`. */
  maxRunning?: number;
}

export const tenantLimitNames = ['submitsPerSecond', 'executionsPerDay', 'maxQueued', 'maxRunning'] as const satisfies readonly (keyof TenantLimits)[];

/** The limits a submission is admitted by (`maxRunning` holds executions back later, in the worker). */
export const submitLimitNames = ['submitsPerSecond', 'executionsPerDay', 'maxQueued'] as const satisfies readonly (keyof TenantLimits)[];
export type SubmitLimitName = (typeof submitLimitNames)[number];

/**
 * The submit limit nearest exhaustion, as the `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` headers of every submit answer tell it (`resetSeconds`: until it is whole again).
 */
export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** `GET /v1/tenants/:tenant`. */
export interface TenantView {
  tenant: string;
  limits: TenantLimits;
  usage: { today: number; queued: number; running: number };
}
