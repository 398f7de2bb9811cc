import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Server } from 'socket.io';
import { catalogQueues, decodePublished, decodeRoute, scheduleQueue, type ConveyorEvent, type EventRoute } from '@conveyor/contracts';
import type { MonitorConfig } from '@conveyor/config';
import { ExecutionStore } from '@conveyor/executions';
import { countDelivered } from '@conveyor/metrics';
import { createRedis, listenSharded, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { MONITOR_CONFIG } from '../monitor-config.js';
import { ExecutionFeed, type EventSink, type FeedSubscriber, type ReadEventsSince, type Subject } from './execution-feed.js';

export type { Subject } from './execution-feed.js';
import { QueueCountsBroadcast } from './queue-counts.js';

/** A room of live events: one queue of one tenant, or all of a tenant's. */
export type Room = `queue:${string}:${string}` | `tenant:${string}`;

export function queueRoom(tenant: string, queue: string): Room {
  return `queue:${tenant}:${queue}`;
}

export function tenantRoom(tenant: string): Room {
  return `tenant:${tenant}`;
}

/** Events of a whole queue: published without a tenant, delivered to every tenant's rooms of the queue. */
const queueWideTypes = new Set(['queue.paused', 'queue.resumed']);

/** Events that change no execution's status (so no queue's counts). */
const countNeutralTypes = new Set(['execution.progress', 'execution.log']);

/**
 * Relays events from the queues' pub/sub channels to this monitor's own subscribers only, so
 * several monitors never duplicate an event. A message nobody here follows is not even parsed.
 */
@Injectable()
export class EventRelay implements OnModuleInit, OnModuleDestroy {
  private readonly feeds = new Map<Subject, ExecutionFeed>();
  private readonly rooms = new Map<Room, Map<string, EventSink>>();
  private subscriber: Redis | null = null;
  private readonly counts: QueueCountsBroadcast;
  /** Sends one event to many sinks; `useServer` lets socket.io encode it once for all of them. */
  private fanOut = (sinks: EventSink[], event: ConveyorEvent) => sinks.forEach((sink) => sink.emit(event.type, event));

  constructor(
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: RedisKeys,
    store: ExecutionStore,
  ) {
    this.counts = new QueueCountsBroadcast(
      (queue, tenant) => store.statusCounts([queue], tenant),
      (event) => this.toRooms(this.roomsOf(event.tenant, event.queue), event),
      (err) => this.logger.warn({ err }, 'could not read queue counts'),
    );
  }

  async onModuleInit(): Promise<void> {
    const subscriber = createRedis(this.config.redis, 'subscriber');
    subscriber.on('error', (err) => this.logger.warn({ err }, 'event subscription connection error'));
    this.subscriber = subscriber;
    await listenSharded(subscriber, [...catalogQueues, scheduleQueue].map((queue) => this.keys.eventsChannel(queue)), (_channel, message) => this.route(message));
  }

  onModuleDestroy(): void {
    this.counts.stop();
    this.subscriber?.disconnect();
  }

  /** Sends to many sockets as one socket.io broadcast: one encoding, local only (never through an adapter). */
  useServer(server: Server): void {
    this.fanOut = (sinks, event) => server.local.to(sinks.map((sink) => sink.id)).emit(event.type, event);
  }

  /** Starts following a subject for `sink`; events arriving before `catchUp` are kept for it. */
  attach(subject: Subject, sink: EventSink, readSince: ReadEventsSince): FeedSubscriber {
    let feed = this.feeds.get(subject);
    if (!feed) {
      feed = new ExecutionFeed(subject, readSince, (err) => this.logger.warn({ err, subject }, 'could not refill events from the log'));
      this.feeds.set(subject, feed);
    }
    return feed.attach(sink);
  }

  /** Subjects followed and rooms joined, by all sockets here. */
  subscriptionCount(): number {
    let count = 0;
    for (const feed of this.feeds.values()) count += feed.size;
    for (const members of this.rooms.values()) count += members.size;
    return count;
  }

  /** The sink's subscriber of the subject, if it follows it. */
  subscriberOf(subject: Subject, sinkId: string): FeedSubscriber | undefined {
    return this.feeds.get(subject)?.subscriberOf(sinkId);
  }

  /** Live state events (no log lines) of the room, from now on. */
  join(room: Room, sink: EventSink): void {
    const members = this.rooms.get(room) ?? new Map<string, EventSink>();
    members.set(sink.id, sink);
    this.rooms.set(room, members);
  }

  leave(room: Room, sinkId: string): void {
    const members = this.rooms.get(room);
    members?.delete(sinkId);
    if (members?.size === 0) this.rooms.delete(room);
  }

  detach(subject: Subject, sinkId: string): void {
    const feed = this.feeds.get(subject);
    if (!feed) return;
    feed.detach(sinkId);
    if (feed.isEmpty) this.feeds.delete(subject);
  }

  /**
   * Each socket gets an event once, by the most precise way it asked for: its execution's feed
   * (ordered, replayed), else its schedule's, else its queue's or tenant's room. Routed by the
   * message's route line (set by the server), never by anything in the event's data.
   */
  private route(message: string): void {
    const route = decodeRoute(message);
    if (!route) return this.logger.warn({ message: message.slice(0, 200) }, 'event message without a route');
    if (queueWideTypes.has(route.type)) return this.routeQueueWide(message, route);
    const { executionId, scheduleId, tenant, queue } = route;
    const feeds = [executionId && this.feeds.get(`execution:${executionId}`), scheduleId && this.feeds.get(`schedule:${scheduleId}`)].filter(
      (feed): feed is ExecutionFeed => Boolean(feed),
    );
    const rooms = this.roomsOf(tenant, queue);
    if (feeds.length === 0 && rooms.length === 0) return;
    const event = this.parse(message);
    if (!event) return;
    const reached = new Set<string>();
    const outbox: EventSink[] = [];
    feeds.forEach((feed) => feed.deliver(event, reached, outbox));
    if (route.type !== 'execution.log') collectMembers(rooms, reached, outbox);
    this.send(outbox, event);
    if (rooms.length > 0 && executionId && !countNeutralTypes.has(route.type)) this.counts.changedIn(tenant, queue);
  }

  /** A queue-wide event goes to each tenant's rooms of the queue, as that tenant's event. */
  private routeQueueWide(message: string, { queue }: EventRoute): void {
    const tenants = new Set([...this.rooms.keys()].map(tenantOfRoom));
    if (tenants.size === 0) return;
    const event = this.parse(message);
    if (!event) return;
    for (const tenant of tenants) this.toRooms(this.roomsOf(tenant, queue), { ...event, tenant });
  }

  private roomsOf(tenant: string, queue: string): Map<string, EventSink>[] {
    return [this.rooms.get(queueRoom(tenant, queue)), this.rooms.get(tenantRoom(tenant))].filter(
      (room): room is Map<string, EventSink> => room !== undefined,
    );
  }

  private toRooms(rooms: Map<string, EventSink>[], event: ConveyorEvent): void {
    this.send(collectMembers(rooms, new Set(), []), event);
  }

  private send(sinks: EventSink[], event: ConveyorEvent): void {
    if (sinks.length > 0) countDelivered(sinks.length, event.ts);
    if (sinks.length === 1) sinks[0].emit(event.type, event);
    else if (sinks.length > 1) this.fanOut(sinks, event);
  }

  private parse(message: string): ConveyorEvent | null {
    try {
      return decodePublished(message);
    } catch (err) {
      this.logger.warn({ err }, 'unreadable event message');
      return null;
    }
  }
}

/** Adds to `outbox` every member of the rooms that `reached` does not hold yet (each socket once). */
function collectMembers(rooms: Map<string, EventSink>[], reached: Set<string>, outbox: EventSink[]): EventSink[] {
  for (const room of rooms) {
    for (const [id, sink] of room) {
      if (reached.has(id)) continue;
      reached.add(id);
      outbox.push(sink);
    }
  }
  return outbox;
}

/** `queue:<tenant>:<queue>` or `tenant:<tenant>` → the tenant. */
export function tenantOfRoom(room: Room): string {
  return room.split(':')[1];
}
