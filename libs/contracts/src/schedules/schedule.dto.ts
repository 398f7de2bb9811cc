import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { TaskTemplateDto } from '../executions/submit-execution.dto.js';
import { overlapPolicies, schedulePreviewCount, type OverlapPolicy, type SchedulePreviewRequest } from './schedule.view.js';

/** Several decorators as one: the trigger fields are checked alike in a schedule and in a preview. */
const rules =
  (...decorators: PropertyDecorator[]): (() => PropertyDecorator) =>
  () =>
  (target, key) =>
    decorators.forEach((decorate) => decorate(target, key));

const isoTime = () => IsISO8601({ strict: true, strictSeparator: true });
const CronField = rules(IsOptional(), IsString(), Length(1, 200));
const TimeZoneField = rules(IsOptional(), IsString(), Length(1, 64));
const EveryField = rules(IsOptional(), IsInt(), Min(1000), Max(366 * 24 * 60 * 60 * 1000));
const StartAtField = rules(IsOptional(), isoTime());

/** `POST /v1/schedules`: an execution template plus at most one trigger (`cron`, `every`, `at`; none = by hand only). */
export class CreateScheduleDto extends TaskTemplateDto {
  /** Unique per tenant. */
  @IsString()
  @Length(1, 100)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 ._:/-]*$/, { message: 'must start with a letter or digit and hold only letters, digits, spaces and . _ : / -' })
  name!: string;

  /** 5 fields (minute first) or 6 (second first). */
  @CronField()
  cron?: string;

  /** IANA time zone of `cron` (default UTC). */
  @TimeZoneField()
  tz?: string;

  /** Milliseconds between ticks. */
  @EveryField()
  every?: number;

  /** One tick, at this time. */
  @IsOptional()
  @isoTime()
  at?: string;

  /** The first tick now (cron, every). */
  @IsOptional()
  @IsBoolean()
  runImmediately?: boolean;

  @StartAtField()
  startAt?: string;

  @IsOptional()
  @isoTime()
  endAt?: string;

  /** How many ticks fire at most (run-now does not count). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  limit?: number;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** `skip` (default): a tick that finds the previous run still queued or running is skipped. */
  @IsOptional()
  @IsIn(overlapPolicies)
  overlap?: OverlapPolicy;

  /** After this many consecutive failed runs, the schedule pauses itself. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  pauseAfterFailures?: number;
}

/** `POST /v1/schedules/:id/hooks`: a new inbound hook, with an optional description for lists. */
export class CreateScheduleHookDto {
  @IsOptional()
  @IsString()
  @Length(1, 200)
  description?: string;
}

/** `POST /v1/schedules/preview`: a trigger checked as a schedule's is, to show its next times. */
export class SchedulePreviewDto implements SchedulePreviewRequest {
  @CronField()
  cron?: string;

  @TimeZoneField()
  tz?: string;

  @EveryField()
  every?: number;

  @StartAtField()
  startAt?: string;

  /** How many times to list (default 5). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(schedulePreviewCount.max)
  count?: number;
}
