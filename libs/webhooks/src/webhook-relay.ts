import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { decodeRoute, findTask, newId, type ConveyorEvent } from '@conveyor/contracts';
import type { RedisConfig } from '@conveyor/config';
import { createRedis, execOrThrow, type RedisKeys } from '@conveyor/redis';
import type { ScheduleStore } from '@conveyor/schedules';
import { wantsEvent, type EventSubject } from './delivery-policy.js';
import { deliveryIdOf, deliveryJobOptions, type DeliveryJobData } from './delivery-job.js';
import type { WebhookRecord, WebhookStore } from './webhook-store.js';

const group = 'webhook-relay';
const batchSize = 100;
const blockMs = 5_000;
/** An entry read by a relay that has not acknowledged it this long is taken over (its worker died). */
const claimIdleMs = 15_000;

type Entry = [id: string, fields: string[]];

/**
 * Turns each queue's outbox into delivery jobs: it reads the outbox with a consumer group (several
 * workers share the work, each entry goes to one), adds one job per endpoint that wants the event —
 * its id deterministic, so a repeat adds nothing — then acknowledges and deletes the entry. An entry
 * whose relay died unacknowledged is claimed by another after `claimIdleMs`: at least once, never lost.
 */
export class WebhookRelay {
  private readonly consumer = `${hostname()}-${process.pid}-${newId('webhook').slice(-6)}`;
  private readonly connections: Redis[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopped = false;

  constructor(
    private readonly redisConfig: RedisConfig,
    private readonly keys: RedisKeys,
    private readonly store: WebhookStore,
    private readonly schedules: ScheduleStore,
    private readonly deliveries: Queue<DeliveryJobData>,
    private readonly keepJobsMs: number,
    private readonly logger: Logger,
  ) {}

  /** One loop per queue, each on its own connection (a blocking read holds it). */
  start(queues: readonly string[]): void {
    for (const queue of queues) {
      const connection = createRedis(this.redisConfig, 'worker');
      this.connections.push(connection);
      this.loops.push(this.run(queue, connection));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const connection of this.connections) connection.disconnect();
    await Promise.all(this.loops);
  }

  private async run(queue: string, redis: Redis): Promise<void> {
    const outbox = this.keys.outbox(queue);
    let claimedAt = 0;
    // Made once, and again after any failure (a group lost with its outbox reads as NOGROUP).
    let grouped = false;
    while (!this.stopped) {
      try {
        if (!grouped) {
          await redis.xgroup('CREATE', outbox, group, '0', 'MKSTREAM').catch((error: Error) => {
            if (!error.message.includes('BUSYGROUP')) throw error;
          });
          grouped = true;
        }
        if (Date.now() - claimedAt > claimIdleMs) {
          claimedAt = Date.now();
          const [, stale] = (await redis.xautoclaim(outbox, group, this.consumer, claimIdleMs, '0', 'COUNT', batchSize)) as [string, Entry[]];
          await this.relay(queue, redis, stale);
        }
        const read = (await redis.xreadgroup('GROUP', group, this.consumer, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', outbox, '>')) as [string, Entry[]][] | null;
        await this.relay(queue, redis, read?.[0]?.[1] ?? []);
      } catch (error) {
        if (this.stopped) return;
        grouped = false;
        this.logger.error({ err: error, queue }, 'webhook relay failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private async relay(queue: string, redis: Redis, entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const endpointsOf = new Map<string, Promise<WebhookRecord[]>>();
    for (const [, fields] of entries) {
      const message = fields[fields.indexOf('e') + 1] ?? '';
      const route = decodeRoute(message);
      if (!route) continue;
      if (!endpointsOf.has(route.tenant)) endpointsOf.set(route.tenant, this.store.list(route.tenant));
      const event = JSON.parse(message.slice(message.indexOf('\n') + 1)) as ConveyorEvent;
      const tags = fields[fields.indexOf('tags') + 1];
      await this.enqueue(event, (await endpointsOf.get(route.tenant))!, () => this.subjectOf(event, tags));
    }
    const ids = entries.map(([id]) => id);
    await execOrThrow(redis.multi().xack(this.keys.outbox(queue), group, ...ids).xdel(this.keys.outbox(queue), ...ids));
  }

  private async enqueue(event: ConveyorEvent, endpoints: WebhookRecord[], subject: () => Promise<EventSubject>): Promise<void> {
    const subjectId = event.executionId ?? event.scheduleId;
    if (!subjectId || event.seq === undefined) return;
    const interested = endpoints.filter((endpoint) => endpoint.enabled && (endpoint.events as readonly string[]).includes(event.type));
    if (interested.length === 0) return;
    const facts = await subject();
    const body = JSON.stringify(event);
    const createdAt = Date.parse(event.ts);
    // Endpoints side by side; for each, its log entry before its job.
    await Promise.all(
      interested
        .filter((endpoint) => wantsEvent(endpoint, event.type, facts))
        .map(async (endpoint) => {
          const deliveryId = deliveryIdOf(endpoint.id, subjectId, event.seq!);
          await this.store.addDelivery(endpoint.id, { id: deliveryId, eventType: event.type, subjectId }, createdAt);
          await this.deliveries.add(event.type, { endpointId: endpoint.id, deliveryId, eventType: event.type, subjectId, body, createdAt }, deliveryJobOptions(deliveryId, this.keepJobsMs));
        }),
    );
  }

  /** An execution's queue, task and tags (from the outbox entry); a schedule's template's (from its record). */
  private async subjectOf(event: ConveyorEvent, tags: string | undefined): Promise<EventSubject> {
    if (!event.scheduleId || event.executionId) return { queue: event.queue, task: event.task ?? null, tags: tags ? (JSON.parse(tags) as string[]) : [] };
    const definition = (await this.schedules.read(event.scheduleId))?.definition;
    return { queue: definition ? (findTask(definition.task)?.queue ?? null) : null, task: definition?.task ?? null, tags: definition?.tags ?? [] };
  }
}
