import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  InvalidFieldsError,
  newId,
  WebhookNotFoundError,
  workerQueues,
  type TenantFilter,
  type WebhookDeliveryAttempt,
  type WebhookDeliveryStatus,
  type WebhookDeliveryView,
  type WebhookView,
  type WebhookWithSecret,
} from '@conveyor/contracts';
import { defineConveyorScripts, execOrThrow, type RedisKeys } from '@conveyor/redis';

/** An endpoint as stored: its view's facts plus its secrets. Times are epoch ms. Persisted: add fields, never rename them. */
export interface WebhookRecord extends Pick<WebhookView, 'id' | 'tenant' | 'url' | 'events' | 'filters' | 'description' | 'enabled' | 'disabledReason'> {
  secret: string;
  /** The secret before the last rotation, signed with too until `previousSecretUntil`. */
  previousSecret: string | null;
  previousSecretUntil: number | null;
  createdAt: number;
  updatedAt: number;
  /** When a delivery last succeeded (absent: never); the horizon's disable looks at it. */
  lastDeliveredAt?: number | null;
}

export type WebhookChange = Partial<Pick<WebhookRecord, 'url' | 'events' | 'filters' | 'description' | 'enabled'>>;

/** How many deliveries an endpoint's log keeps (the oldest go first), and attempts a delivery keeps. */
export const deliveryLogCap = 1000;
const attemptsCap = 50;
/** The default overlap of a rotated secret: a day to roll the new one out to receivers. */
export const defaultSecretOverlapSeconds = 24 * 60 * 60;

const jsonFields = new Set(['events', 'filters']);
const numberFields = new Set(['previousSecretUntil', 'createdAt', 'updatedAt', 'lastDeliveredAt']);

/** Webhook endpoints and their delivery logs, under the `{webhooks}` tag; and the per-queue sets that tell the event scripts whose events to put in the outbox. */
export class WebhookStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    defineConveyorScripts(redis);
  }

  /**
   * Stores a new endpoint, then marks its tenant as hooked in every queue — before the caller answers,
   * so that every event recorded after the answer reaches the outbox.
   */
  async create(tenant: string, fields: Required<Pick<WebhookRecord, 'url' | 'events'>> & WebhookChange): Promise<WebhookWithSecret> {
    const now = Date.now();
    const record: WebhookRecord = {
      id: newId('webhook'),
      tenant,
      url: fields.url,
      events: fields.events,
      filters: fields.filters ?? null,
      description: fields.description ?? null,
      enabled: true,
      disabledReason: null,
      secret: newSecret(),
      previousSecret: null,
      previousSecretUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await execOrThrow(this.redis.multi().hset(this.keys.webhook(record.id), ...encode(record)).sadd(this.keys.tenantWebhooks(tenant), record.id));
    await this.markHooked(tenant);
    return { ...toView(record), secret: record.secret };
  }

  /** The endpoint, if the caller's tenant may see it (`null`: any tenant's). */
  async get(id: string, tenant: TenantFilter): Promise<WebhookRecord> {
    const record = await this.read(id);
    if (!record || (tenant !== null && record.tenant !== tenant)) throw new WebhookNotFoundError(id);
    return record;
  }

  async read(id: string): Promise<WebhookRecord | null> {
    return decode(await this.redis.hgetall(this.keys.webhook(id)));
  }

  /** The endpoints of a tenant, oldest first (`null`: every tenant's). */
  async list(tenant: TenantFilter): Promise<WebhookRecord[]> {
    const tenants = tenant === null ? await this.hookedTenants() : [tenant];
    const ids = (await Promise.all(tenants.map((name) => this.redis.smembers(this.keys.tenantWebhooks(name))))).flat();
    const records = await Promise.all(ids.map((id) => this.read(id)));
    return records.filter((record) => record !== null).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Writes only the changed fields, and only while the endpoint exists (a PATCH racing a DELETE is a 404). */
  async update(record: WebhookRecord, change: WebhookChange): Promise<WebhookView> {
    // Turned on again by hand: the reason it was turned off no longer holds.
    const fields = { ...change, updatedAt: Date.now(), ...(change.enabled === true ? { disabledReason: null } : {}) };
    return toView(await this.change(record.id, '', '', '', fields));
  }

  /**
   * Turns an endpoint off for good (until enabled again), saying why — unless a delivery to it
   * succeeded at or after `unlessDeliveredSince` (ms); nothing if it is gone. Whether it was turned off.
   */
  async disable(id: string, reason: string, unlessDeliveredSince: number | '' = ''): Promise<boolean> {
    const result = await this.redis.conveyorChangeWebhook(this.keys.webhook(id), '', '', unlessDeliveredSince, ...encode({ enabled: false, disabledReason: reason, updatedAt: Date.now() }));
    return Array.isArray(result);
  }

  /** Notes a successful delivery (the horizon's disable spares an endpoint that delivered since); nothing if it is gone. */
  async markDelivered(id: string, at: number): Promise<void> {
    await this.redis.conveyorChangeWebhook(this.keys.webhook(id), '', '', '', 'lastDeliveredAt', String(at));
  }

  /** A new secret; the one stored until now still signs deliveries for `overlapSeconds`. */
  async rotateSecret(record: WebhookRecord, overlapSeconds: number): Promise<WebhookWithSecret> {
    const now = Date.now();
    const rotated = await this.change(record.id, newSecret(), overlapSeconds > 0 ? now + overlapSeconds * 1000 : '', '', { updatedAt: now });
    return { ...toView(rotated), secret: rotated.secret };
  }

  private async change(id: string, secret: string, overlapUntil: number | '', unlessDeliveredSince: number | '', fields: Partial<WebhookRecord>): Promise<WebhookRecord> {
    const result = await this.redis.conveyorChangeWebhook(this.keys.webhook(id), secret, overlapUntil, unlessDeliveredSince, ...encode(fields));
    const record = Array.isArray(result) ? decode(Object.fromEntries(pairs(result))) : null;
    if (!record) throw new WebhookNotFoundError(id);
    return record;
  }

  /**
   * Removes the endpoint and its deliveries; when it was its tenant's last, the tenant stops being
   * hooked — and is hooked again if an endpoint was created meanwhile, so that one misses nothing.
   */
  async delete(record: WebhookRecord): Promise<void> {
    const tenantKey = this.keys.tenantWebhooks(record.tenant);
    const [, , left] = (await execOrThrow(
      this.redis
        .multi()
        .del(this.keys.webhook(record.id), this.keys.webhookDeliveries(record.id), this.keys.webhookDeliveryRecords(record.id))
        .srem(tenantKey, record.id)
        .scard(tenantKey),
    )) as [number, number, number];
    if (left > 0) return;
    await Promise.all(workerQueues.map((queue) => this.redis.srem(this.keys.hookedTenants(queue), record.tenant)));
    if ((await this.redis.scard(tenantKey)) > 0) await this.markHooked(record.tenant);
  }

  /** The secrets a delivery is signed with now: the current one, and the previous one during its overlap. */
  static signingSecrets(record: WebhookRecord, now = Date.now()): string[] {
    return record.previousSecret && (record.previousSecretUntil ?? 0) > now ? [record.secret, record.previousSecret] : [record.secret];
  }

  /** Adds a delivery to the endpoint's log as pending, unless it is there already (a repeated add) or the endpoint is gone. */
  async addDelivery(endpointId: string, delivery: Pick<WebhookDeliveryView, 'id' | 'eventType' | 'subjectId'>, createdAt: number): Promise<void> {
    const view: WebhookDeliveryView = { ...delivery, status: 'pending', attempts: [] };
    await this.redis.conveyorAddWebhookDelivery(
      this.keys.webhook(endpointId),
      this.keys.webhookDeliveries(endpointId),
      this.keys.webhookDeliveryRecords(endpointId),
      delivery.id,
      JSON.stringify(view),
      `${String(createdAt).padStart(15, '0')}/${delivery.id}`,
      deliveryLogCap,
    );
  }

  /** Records an attempt (`null`: none was made) and the delivery's status after it; nothing when the endpoint or delivery is gone. */
  async recordAttempt(endpointId: string, deliveryId: string, attempt: WebhookDeliveryAttempt | null, status: WebhookDeliveryStatus): Promise<void> {
    const key = this.keys.webhookDeliveryRecords(endpointId);
    const json = await this.redis.hget(key, deliveryId);
    if (json === null) return;
    const delivery = JSON.parse(json) as WebhookDeliveryView;
    if (attempt) delivery.attempts = [...delivery.attempts, attempt].slice(-attemptsCap);
    delivery.status = status;
    await this.redis.hset(key, deliveryId, JSON.stringify(delivery));
  }

  /** The endpoint's deliveries, newest first; `cursor` is the last page's `nextCursor`. */
  async deliveries(endpointId: string, limit: number, cursor?: string): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> {
    const after = cursor === undefined ? '+' : `(${decodeCursor(cursor)}`;
    const members = await this.redis.zrevrangebylex(this.keys.webhookDeliveries(endpointId), after, '-', 'LIMIT', '0', String(limit + 1));
    const page = members.slice(0, limit);
    const records = page.length > 0 ? await this.redis.hmget(this.keys.webhookDeliveryRecords(endpointId), ...page.map(memberDeliveryId)) : [];
    return {
      items: records.filter((json) => json !== null).map((json) => JSON.parse(json) as WebhookDeliveryView),
      nextCursor: members.length > limit ? Buffer.from(page[page.length - 1]).toString('base64url') : null,
    };
  }

  private async markHooked(tenant: string): Promise<void> {
    await Promise.all(workerQueues.map((queue) => this.redis.sadd(this.keys.hookedTenants(queue), tenant)));
  }

  private async hookedTenants(): Promise<string[]> {
    const sets = await Promise.all(workerQueues.map((queue) => this.redis.smembers(this.keys.hookedTenants(queue))));
    return [...new Set(sets.flat())];
  }
}

export function toView(record: WebhookRecord): WebhookView {
  const { id, tenant, url, events, filters, description, enabled, disabledReason, previousSecretUntil, createdAt, updatedAt } = record;
  const overlapping = record.previousSecret !== null && previousSecretUntil !== null && previousSecretUntil > Date.now();
  return {
    id,
    tenant,
    url,
    events,
    filters,
    description,
    enabled,
    disabledReason,
    previousSecretExpiresAt: overlapping ? new Date(previousSecretUntil).toISOString() : null,
    createdAt: new Date(createdAt).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
  };
}

const newSecret = () => `whsec_${randomBytes(32).toString('hex')}`;

const memberDeliveryId = (member: string) => member.slice(member.indexOf('/') + 1);

const cursorPattern = /^\d{15}\/[\w.-]{1,160}$/;

function decodeCursor(cursor: string): string {
  const member = Buffer.from(cursor, 'base64url').toString();
  if (!cursorPattern.test(member)) throw new InvalidFieldsError([{ path: 'cursor', message: 'is not a cursor this list returned' }]);
  return member;
}

const pairs = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as const);

function encode(record: Partial<WebhookRecord>): string[] {
  return Object.entries(record).flatMap(([name, value]) => {
    if (value === undefined) return [];
    if (value === null) return [name, ''];
    if (jsonFields.has(name)) return [name, JSON.stringify(value)];
    if (typeof value === 'boolean') return [name, value ? '1' : '0'];
    return [name, String(value)];
  });
}

function decode(hash: Record<string, string>): WebhookRecord | null {
  if (!hash.id) return null;
  const record: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(hash)) {
    if (raw === '') record[name] = null;
    else if (jsonFields.has(name)) record[name] = JSON.parse(raw);
    else if (name === 'enabled') record[name] = raw === '1';
    else if (numberFields.has(name)) record[name] = Number(raw);
    else record[name] = raw;
  }
  return record as unknown as WebhookRecord;
}
