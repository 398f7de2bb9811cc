import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { eventLogCap } from '@conveyor/executions';

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
