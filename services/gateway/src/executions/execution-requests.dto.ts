import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { executionStatuses, limits, type ExecutionStatus } from '@conveyor/contracts';
import { eventLogCap } from '@conveyor/executions';

/** `a,b` → `['a', 'b']`: a filter's alternatives. */
const commaList = () => Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter(Boolean) : value));

/** `POST /v1/executions/:id/cancel` */
export class CancelExecutionDto {
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}

/** `GET /v1/executions/:id/events?since=&limit=` */
export class EventsQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  since?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(eventLogCap)
  limit?: number;
}

/** `GET /v1/executions?status=&task=&queue=&tag=&scheduleId=&limit=&cursor=` */
export class ListExecutionsQueryDto {
  @IsOptional()
  @commaList()
  @IsIn(executionStatuses, { each: true })
  status?: ExecutionStatus[];

  @IsOptional()
  @commaList()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  task?: string[];

  @IsOptional()
  @commaList()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  queue?: string[];

  @IsOptional()
  @commaList()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  tag?: string[];

  @IsOptional()
  @commaList()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  scheduleId?: string[];

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(limits.listMax)
  limit?: number;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be a cursor from a previous page' })
  cursor?: string;
}
