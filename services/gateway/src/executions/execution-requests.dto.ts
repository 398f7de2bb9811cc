import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { executionStatuses, idPatterns, limits, listIncludes, tagMessage, tagPattern, type ExecutionStatus, type ListInclude } from '@conveyor/contracts';
import { eventLogCap } from '@conveyor/executions';
import { ApiError } from '@conveyor/service';
import { parseRequest } from '../http/parse-request.js';

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
  @Max(Number.MAX_SAFE_INTEGER)
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
  @Length(1, 200, { each: true })
  task?: string[];

  @IsOptional()
  @commaList()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  queue?: string[];

  @IsOptional()
  @commaList()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(tagPattern, { each: true, message: tagMessage })
  tag?: string[];

  @IsOptional()
  @commaList()
  @ArrayMaxSize(20)
  @Matches(idPatterns.schedule, { each: true, message: 'each value must be a schedule id (sch_<ULID>)' })
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

  /** `input,result`: the items carry them (then `limit` is at most 50, and a page stops early at 8 MiB). */
  @IsOptional()
  @commaList()
  @IsIn(listIncludes, { each: true })
  include?: ListInclude[];
}

/** A list's query: filters, paging and what the items include (at most 50 a page when inputs or results are). */
export function parseListQuery(query: unknown) {
  const { limit, cursor, include = [], ...filters } = parseRequest(ListExecutionsQueryDto, query);
  if (include.length > 0 && limit !== undefined && limit > limits.listMaxWithPayloads) {
    throw ApiError.validation([{ path: 'limit', message: `must not be greater than ${limits.listMaxWithPayloads} with include` }]);
  }
  return { limit: limit ?? limits.listDefault, cursor: cursor ?? null, include, filters };
}
