import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { tagMessage } from '../executions/submit-execution.dto.js';
import { idPatterns } from '../ids.js';
import { limits, tagPattern, tenantMessage, tenantPattern } from '../limits.js';
import { browserTokenTtl, roles, type Role } from './identity.view.js';

/** `POST /v1/api-keys`: admin keys act for every tenant, the others for exactly one. */
export class CreateApiKeyDto {
  @IsIn(roles)
  role!: Role;

  /** Required for `tenant` and `read` keys; an admin key has none (checked with the role, by the key store). */
  @ValidateIf((dto: CreateApiKeyDto) => dto.role !== 'admin' || dto.tenant !== undefined)
  @Matches(tenantPattern, { message: tenantMessage })
  tenant?: string;

  @IsString()
  @Length(1, 100)
  name!: string;
}

/** Ids and tags a browser token may read; `tenant: true` = all of its tenant's work. */
export class TokenScopeDto {
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(limits.subscriptionsPerSocket)
  @Matches(idPatterns.execution, { each: true, message: 'each value must be an execution id (exec_…)' })
  executions?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(limits.tags)
  @IsString({ each: true })
  @Matches(tagPattern, { each: true, message: tagMessage })
  tags?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(limits.subscriptionsPerSocket)
  @Matches(idPatterns.schedule, { each: true, message: 'each value must be a schedule id (sch_…)' })
  schedules?: string[];

  @IsOptional()
  @Equals(true)
  tenant?: true;
}

/** `POST /v1/tokens`: a read-only token for a browser. */
export class CreateTokenDto {
  @IsObject()
  @ValidateNested()
  @Type(() => TokenScopeDto)
  scope!: TokenScopeDto;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(browserTokenTtl.maxSeconds)
  ttlSeconds?: number;
}

/** `POST /ui/login`: an API key; an admin also picks the tenant the dashboard shows. */
export class LoginDto {
  @IsString()
  @Length(1, 512)
  key!: string;

  @IsOptional()
  @Matches(tenantPattern, { message: tenantMessage })
  tenant?: string;
}
