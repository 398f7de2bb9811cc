import { eventTypes, type EventType } from '../events/conveyor-event.js';

/**
 * The event types a webhook endpoint may ask for: state events of executions and schedules. Progress
 * and log lines are too frequent to be worth a request each, and queue events belong to no tenant's work.
 */
export const webhookEventTypes = eventTypes.filter((type): type is WebhookEventType => type !== 'execution.progress' && type !== 'execution.log' && !type.startsWith('queue.'));

export type WebhookEventType = Exclude<EventType, 'execution.progress' | 'execution.log' | `queue.${string}`>;

const webhookEventTypeSet = new Set<string>(webhookEventTypes);

/** The type of the ping `POST /v1/webhooks/:id/test` sends (never a recorded event). */
export const webhookTestEventType = 'webhook.test';

export function isWebhookEventType(type: string): boolean {
  return webhookEventTypeSet.has(type);
}

/** Which events of the chosen types an endpoint gets: all set filters must match (a tag: one of the subject's tags). */
export interface WebhookFilters {
  queue?: string;
  task?: string;
  tag?: string;
}

export interface WebhookView {
  id: string;
  tenant: string;
  url: string;
  events: WebhookEventType[];
  filters: WebhookFilters | null;
  description: string | null;
  enabled: boolean;
  /** Why Conveyor disabled it (its deliveries failed for the whole retry horizon); `null` when enabled or disabled by hand. */
  disabledReason: string | null;
  /** While a rotated secret's overlap lasts: when deliveries stop carrying the old secret's signature. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The answer of `POST /v1/webhooks` and `/rotate-secret`: the only ones that show the secret. */
export type WebhookWithSecret = WebhookView & { secret: string };

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryAttempt {
  at: string;
  /** `null` when no answer came (refused, unreachable, timed out). */
  statusCode: number | null;
  durationMs: number;
  error?: string;
  /** The start of the answer's body (at most 1 KiB of text). */
  responseExcerpt: string;
}

export interface WebhookDeliveryView {
  /** Also the `Conveyor-Delivery` header: the same on every attempt. */
  id: string;
  eventType: EventType | typeof webhookTestEventType;
  /** The execution or schedule the event is about (the endpoint's own id for a test). */
  subjectId: string;
  status: WebhookDeliveryStatus;
  attempts: WebhookDeliveryAttempt[];
}
