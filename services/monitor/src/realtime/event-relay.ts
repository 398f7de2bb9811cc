import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { catalogQueues, type ConveyorEvent } from '@conveyor/contracts';
import type { MonitorConfig } from '@conveyor/config';
import { ExecutionStore } from '@conveyor/executions';
import { createRedis, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { MONITOR_CONFIG } from '../monitor-config.js';
import { ExecutionFeed, type EventSink, type FeedSubscriber } from './execution-feed.js';

const executionIdField = '"executionId":"';

/** The execution id of a published envelope, read without parsing the whole message. */
export function executionIdOf(message: string): string | null {
  const start = message.indexOf(executionIdField);
  if (start < 0) return null;
  const from = start + executionIdField.length;
  return message.slice(from, message.indexOf('"', from));
}

/**
 * Relays events from the queues' pub/sub channels to this monitor's own subscribers only, so
 * several monitors never duplicate an event. A message nobody here follows is not even parsed.
 */
@Injectable()
export class EventRelay implements OnModuleInit, OnModuleDestroy {
  private readonly feeds = new Map<string, ExecutionFeed>();
  private subscriber: Redis | null = null;

  constructor(
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: RedisKeys,
    private readonly store: ExecutionStore,
  ) {}

  async onModuleInit(): Promise<void> {
    const subscriber = createRedis(this.config.redis, 'subscriber');
    subscriber.on('error', (err) => this.logger.warn({ err }, 'event subscription connection error'));
    subscriber.on('message', (_channel: string, message: string) => this.route(message));
    this.subscriber = subscriber;
    await subscriber.subscribe(...catalogQueues.map((queue) => this.keys.eventsChannel(queue)));
  }

  onModuleDestroy(): void {
    this.subscriber?.disconnect();
  }

  /** Starts following an execution for `sink`; events arriving before `catchUp` are kept for it. */
  attach(executionId: string, queue: string, sink: EventSink): FeedSubscriber {
    let feed = this.feeds.get(executionId);
    if (!feed) {
      const readSince = async (since: number) => (await this.store.readEvents(queue, executionId, since)).events;
      feed = new ExecutionFeed(readSince, (err) => this.logger.warn({ err, executionId }, 'could not refill events from the log'));
      this.feeds.set(executionId, feed);
    }
    return feed.attach(sink);
  }

  detach(executionId: string, sinkId: string): void {
    const feed = this.feeds.get(executionId);
    if (!feed) return;
    feed.detach(sinkId);
    if (feed.isEmpty) this.feeds.delete(executionId);
  }

  private route(message: string): void {
    const executionId = executionIdOf(message);
    const feed = executionId ? this.feeds.get(executionId) : undefined;
    if (!feed) return;
    try {
      feed.deliver(JSON.parse(message) as ConveyorEvent);
    } catch (err) {
      this.logger.warn({ err }, 'unreadable event message');
    }
  }
}
