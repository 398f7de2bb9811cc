import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { tagMessage } from '../executions/submit-execution.dto.js';
import { tagPattern } from '../limits.js';
import { catalogQueues, taskCatalog } from '../tasks/task-catalog.js';
import { webhookEventTypes, type WebhookEventType } from './webhook.view.js';

const urlOptions = { protocols: ['http', 'https'], require_protocol: true, require_tld: false, allow_underscores: true };
const urlMessage = 'must be an http:// or https:// URL';
const eventsMessage = `each value must be a state event type: ${webhookEventTypes.join(', ')}`;

export class WebhookFiltersDto {
  @IsOptional()
  @IsIn(catalogQueues, { message: `must be one of the queues: ${catalogQueues.join(', ')}` })
  queue?: string;

  @IsOptional()
  @IsIn(taskCatalog.map((task) => task.name), { message: `must be a task of the catalogue: ${taskCatalog.map((task) => task.name).join(', ')}` })
  task?: string;

  @IsOptional()
  @IsString()
  @Matches(tagPattern, { message: tagMessage })
  tag?: string;
}

/** `POST /v1/webhooks`. */
export class CreateWebhookDto {
  @IsString()
  @Length(1, 2048)
  @IsUrl(urlOptions, { message: urlMessage })
  url!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(webhookEventTypes.length)
  @ArrayUnique()
  @IsIn(webhookEventTypes, { each: true, message: eventsMessage })
  events!: WebhookEventType[];

  @IsOptional()
  @ValidateNested()
  @Type(() => WebhookFiltersDto)
  filters?: WebhookFiltersDto;

  @IsOptional()
  @IsString()
  @Length(0, 500)
  description?: string;
}

/** `PATCH /v1/webhooks/:id`: the fields given replace the endpoint's (`null` clears `filters` or `description`); `enabled: true` also clears `disabledReason`. */
export class UpdateWebhookDto {
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  @IsUrl(urlOptions, { message: urlMessage })
  url?: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(webhookEventTypes.length)
  @ArrayUnique()
  @IsIn(webhookEventTypes, { each: true, message: eventsMessage })
  events?: WebhookEventType[];

  @IsOptional()
  @ValidateNested()
  @Type(() => WebhookFiltersDto)
  filters?: WebhookFiltersDto | null;

  @IsOptional()
  @IsString()
  @Length(0, 500)
  description?: string | null;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** `POST /v1/webhooks/:id/rotate-secret`: how long deliveries still carry the old secret's signature too. */
export class RotateWebhookSecretDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  overlapSeconds?: number;
}

/** `GET /v1/webhooks/:id/deliveries`. */
export class ListDeliveriesQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  cursor?: string;
}
