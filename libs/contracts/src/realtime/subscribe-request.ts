import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import type { ExecutionStatus } from '../executions/execution-status.js';
import { tenantMessage, tenantPattern } from '../limits.js';
import { catalogQueues } from '../tasks/task-catalog.js';

/** `subscribe` / `unsubscribe` to one execution's events; `since` = the last seq the client has. */
export class ExecutionSubscriptionDto {
  /** Any string: one that is not an execution id (`idPatterns`) is answered `not_found`. */
  @IsString()
  execution!: string;

  /** Events with a higher seq are sent; absent = from the snapshot's seq on; 0 = the whole history. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  since?: number;
}

/** `subscribe` / `unsubscribe` to one schedule's events (and its executions' events, live). */
export class ScheduleSubscriptionDto {
  /** Any string: one that is not a schedule id (`idPatterns`) is answered `not_found`. */
  @IsString()
  schedule!: string;

  /** As for executions, counted in the schedule's own events. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  since?: number;
}

/** `subscribe` / `unsubscribe` to a queue's live state events (the caller's tenant's only; an admin names the tenant). */
export class QueueSubscriptionDto {
  @IsIn(catalogQueues)
  queue!: string;

  @IsOptional()
  @Matches(tenantPattern, { message: tenantMessage })
  tenant?: string;
}

/** `subscribe` / `unsubscribe` to all the live state events of the caller's tenant (`true`), or of the tenant an admin names. */
export class TenantSubscriptionDto {
  @ValidateIf((dto: TenantSubscriptionDto) => dto.tenant !== true)
  @Matches(tenantPattern, { message: `must be true (your tenant) or a tenant's name: ${tenantMessage}` })
  tenant!: true | string;
}

/** The snapshot of a queue or tenant room: executions per status. */
export interface CountsSnapshot {
  counts: Record<ExecutionStatus, number>;
}

/** The answer to `subscribe`: the snapshot on success. */
export type SubscribeAck<Snapshot> =
  | { ok: true; snapshot: Snapshot; truncated?: true; firstSeq?: number }
  | { ok: false; code: string; message: string };
