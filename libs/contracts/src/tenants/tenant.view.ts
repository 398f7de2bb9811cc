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

/** `GET /v1/tenants/:tenant`. */
export interface TenantView {
  tenant: string;
  limits: TenantLimits;
  usage: { today: number; queued: number; running: number };
}
