import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { TenantLimits } from './tenant.view.js';

const most = 1_000_000_000;

/** `PUT /v1/tenants/:tenant/limits`: each limit set, kept (absent) or cleared (`null`). */
export class TenantLimitsDto implements Partial<Record<keyof TenantLimits, number | null>> {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  submitsPerSecond?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  executionsPerDay?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  maxQueued?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  maxRunning?: number | null;
}
