import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { OrNull } from '../validation/schema-hints.js';
import type { TenantLimits } from './tenant.view.js';

const most = 1_000_000_000;

/** `PUT /v1/tenants/:tenant/limits`: each limit set, kept (absent) or cleared (`null`). */
export class TenantLimitsDto implements Partial<Record<keyof TenantLimits, number | null>> {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  @OrNull()
  submitsPerSecond?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  @OrNull()
  executionsPerDay?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  @OrNull()
  maxQueued?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(most)
  @OrNull()
  maxRunning?: number | null;
}
