import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { eventFormatVersion, newId, webhookTestEventType, type WebhookDeliveryView } from '@conveyor/contracts';
import { ExecutionQueues } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';
import { deliveryIdOf, deliveryJobOptions, WebhookStore, type DeliveryJobData, type WebhookRecord } from '@conveyor/webhooks';

/** A test delivery is kept this long once finished (its id is unique: nothing to dedupe). */
const keepTestJobsMs = 60 * 60 * 1000;

/** The gateway's side of the delivery queue: test pings, sent by the workers as any delivery. */
@Injectable()
export class WebhookDeliveries implements OnApplicationShutdown {
  private readonly queue: Queue<DeliveryJobData>;

  constructor(
    queues: ExecutionQueues,
    keys: RedisKeys,
    private readonly store: WebhookStore,
  ) {
    // On the connection of BullMQ's queues, not Conveyor's (see `ExecutionQueues`).
    this.queue = new Queue<DeliveryJobData>(keys.webhookDeliveryQueue(), { connection: queues.connection, prefix: keys.prefix });
  }

  /** Queues a signed `webhook.test` envelope to the endpoint, whatever events it chose. */
  async sendTest(endpoint: WebhookRecord): Promise<WebhookDeliveryView> {
    const createdAt = Date.now();
    const deliveryId = deliveryIdOf(endpoint.id, 'test', newId('webhook').slice('whk_'.length));
    const body = JSON.stringify({ v: eventFormatVersion, type: webhookTestEventType, tenant: endpoint.tenant, ts: new Date(createdAt).toISOString(), data: { webhookId: endpoint.id } });
    const delivery = { id: deliveryId, eventType: webhookTestEventType, subjectId: endpoint.id } as const;
    await this.store.addDelivery(endpoint.id, delivery, createdAt);
    await this.queue.add(webhookTestEventType, { endpointId: endpoint.id, deliveryId, eventType: webhookTestEventType, subjectId: endpoint.id, body, createdAt }, deliveryJobOptions(deliveryId, keepTestJobsMs));
    return { ...delivery, status: 'pending', attempts: [] };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
