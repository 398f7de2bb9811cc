// class-transformer's @Type reads design-time types through reflect-metadata, which must load first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { scheduleTickKeyPrefix } from '../ids.js';
import { idempotencyKeyMessage, idempotencyKeyPattern, limits, tagPattern } from '../limits.js';
import { backoffTypes, maxBackoffDelayMs, maxBackoffSteps, type BackoffPolicy } from './backoff-policy.js';
import { OwnSchema, SchemaHint } from '../validation/schema-hints.js';
import { isPriority, maxPriority, priorityLevels, prioritySchema, type Priority } from './priority.js';

const oneDayMs = 24 * 60 * 60 * 1000;

function IsPriority(options?: ValidationOptions): PropertyDecorator {
  const names = Object.keys(priorityLevels).join(', ');
  return ValidateBy(
    {
      name: 'isPriority',
      validator: {
        validate: isPriority,
        defaultMessage: () => `must be one of ${names} or an integer from 1 to ${maxPriority}`,
      },
    },
    options,
  );
}

/** A field only some backoff types take: given to another known type, it says which types take it. */
function ForBackoffTypes(types: readonly BackoffPolicy['type'][]): PropertyDecorator {
  return ValidateBy({
    name: 'forBackoffTypes',
    validator: {
      validate: (_value, args) => {
        const { type } = args?.object as BackoffDto;
        return types.includes(type) || !backoffTypes.includes(type);
      },
      defaultMessage: (args) => `is not used by a ${(args?.object as BackoffDto).type} backoff (only by ${types.join(', ')})`,
    },
  });
}

/** `{ type: exponential | fixed, delayMs, jitter? }` or `{ type: custom, delaysMs }`, each refusing the other's fields. */
export class BackoffDto {
  @IsIn(backoffTypes)
  type!: BackoffPolicy['type'];

  @ValidateIf((backoff: BackoffDto) => backoff.type !== 'custom' || backoff.delayMs !== undefined)
  @ForBackoffTypes(['exponential', 'fixed'])
  @IsInt()
  @Min(0)
  @Max(maxBackoffDelayMs)
  delayMs?: number;

  @IsOptional()
  @ForBackoffTypes(['exponential', 'fixed'])
  @IsNumber()
  @Min(0)
  @Max(1)
  jitter?: number;

  /** The n-th retry waits the n-th delay; the last one repeats. */
  @ValidateIf((backoff: BackoffDto) => backoff.type === 'custom' || backoff.delaysMs !== undefined)
  @ForBackoffTypes(['custom'])
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(maxBackoffSteps)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(maxBackoffDelayMs, { each: true })
  @OwnSchema()
  delaysMs?: number[];
}

/** The policy a validated `BackoffDto` describes, without stray fields. */
export function toBackoffPolicy(dto: BackoffDto): BackoffPolicy {
  if (dto.type === 'custom') return { type: 'custom', delaysMs: [...dto.delaysMs!] };
  return { type: dto.type, delayMs: dto.delayMs!, ...(dto.jitter === undefined ? {} : { jitter: dto.jitter }) };
}

/** Options a submission (or a schedule's template) may set; unset ones come from the task's defaults. */
/** What a tag that breaks `tagPattern` is told. */
export const tagMessage = 'each value must be 1 to 64 characters: no commas, no control characters, no leading or trailing spaces';

export class ExecutionOptionsDto {
  @IsOptional()
  @IsPriority()
  @SchemaHint(prioritySchema)
  priority?: Priority;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  attempts?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => BackoffDto)
  backoff?: BackoffDto;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * oneDayMs)
  timeoutMs?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(limits.tags)
  @IsString({ each: true })
  @Matches(tagPattern, { each: true, message: tagMessage })
  tags?: string[];
}

/** A task, its input and the options: what a submission and a schedule's template have in common. */
export class TaskTemplateDto extends ExecutionOptionsDto {
  @IsString()
  @Length(1, 200)
  task!: string;

  /** Validated separately against the task's own input class; `null` is not an input. */
  @ValidateIf((template: TaskTemplateDto) => template.input !== undefined)
  @IsObject()
  // Its schema is the task's input class's (see the OpenAPI document's SubmitExecution).
  @SchemaHint({ description: "The task's input: an object, as the task's input schema describes." })
  input?: Record<string, unknown>;
}

/** `POST /v1/executions`: one run of a task. */
export class SubmitExecutionDto extends TaskTemplateDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(limits.delayMs)
  delayMs?: number;

  /** At most as far ahead as `delayMs` may reach; a past time runs now. */
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @ValidateBy({
    name: 'isWithinDelayLimit',
    validator: {
      validate: (v) => typeof v !== 'string' || !(Date.parse(v) - Date.now() > limits.delayMs),
      defaultMessage: () => `must not be more than ${limits.delayMs / oneDayMs} days ahead`,
    },
  })
  runAt?: string;

  /** The same key within the idempotency TTL returns the first execution (or `409` for another request); `sch:…` is reserved. */
  @IsOptional()
  @IsString()
  @Matches(idempotencyKeyPattern, { message: idempotencyKeyMessage })
  @ValidateBy({
    name: 'isUserIdempotencyKey',
    validator: {
      validate: (v) => typeof v !== 'string' || !v.startsWith(scheduleTickKeyPrefix),
      defaultMessage: () => `must not begin with ${scheduleTickKeyPrefix} (reserved for schedule ticks)`,
    },
  })
  idempotencyKey?: string;
}
