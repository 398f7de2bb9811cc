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

/** A member of rooms: a socket, which also joins socket.io's room of the same name. */
export interface RoomMember extends EventSink {
  join(room: string): unknown;
  leave(room: string): unknown;
}

type RoomMembers = Map<string, EventSink>;

/**
 * Relays events from the queues' pub/sub channels to this monitor's own subscribers only, so
 * several monitors never duplicate an event. A message nobody here follows is not even parsed.
 */
@Injectable()
export class EventRelay implements OnModuleInit, OnModuleDestroy {
  private readonly feeds = new Map<Subject, ExecutionFeed>();
  private readonly rooms = new Map<Room, RoomMembers>();
  private subscriber: Redis | null = null;
  private readonly counts: QueueCountsBroadcast;
  /** socket.io's server (see `useServer`): no socket, so no subscriber, exists before it. */
  private server: Server | null = null;

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

  /**
   * Sends to many sockets as one socket.io broadcast: one encoding, local only (never through an
   * adapter); a room's members through socket.io's room of the same name, which they join with it
   * (naming each socket cost a broadcast about a third of a relay's deliveries).
   */
  useServer(server: Server): void {
    this.server = server;
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
  join(room: Room, member: RoomMember): void {
    const members = this.rooms.get(room) ?? new Map<string, EventSink>();
    members.set(member.id, member);
    this.rooms.set(room, members);
    member.join(room);
  }

  leave(room: Room, member: RoomMember): void {
    const members = this.rooms.get(room);
    members?.delete(member.id);
    if (members?.size === 0) this.rooms.delete(room);
    member.leave(room);
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
    this.send(outbox, event);
    if (route.type !== 'execution.log') this.toRooms(rooms, event, reached);
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

  /** The rooms of the queue and of the tenant that have members here. */
  private roomsOf(tenant: string, queue: string): [Room, RoomMembers][] {
    return [queueRoom(tenant, queue), tenantRoom(tenant)].flatMap((room) => {
      const members = this.rooms.get(room);
      return members ? [[room, members] as [Room, RoomMembers]] : [];
    });
  }

  /** Sends to every member of the rooms not `reached` already, once each. */
  private toRooms(rooms: [Room, RoomMembers][], event: ConveyorEvent, reached = new Set<string>()): void {
    const count = memberCount(rooms, reached);
    if (count === 0 || !this.server) return;
    countDelivered(count, event.ts);
    this.server.local.to(rooms.map(([room]) => room)).except([...reached]).emit(event.type, event);
  }

  private send(sinks: EventSink[], event: ConveyorEvent): void {
    if (sinks.length === 0 || !this.server) return;
    countDelivered(sinks.length, event.ts);
    if (sinks.length === 1) sinks[0].emit(event.type, event);
    else this.server.local.to(sinks.map((sink) => sink.id)).emit(event.type, event);
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

/** How many members of the rooms `reached` does not hold, each once; without walking a lone room nobody reached. */
function memberCount(rooms: [Room, RoomMembers][], reached: Set<string>): number {
  let count = 0;
  rooms.forEach(([, members], i) => {
    if (i === 0 && reached.size === 0) count += members.size;
    else for (const id of members.keys()) if (!reached.has(id) && !rooms.slice(0, i).some(([, earlier]) => earlier.has(id))) count++;
  });
  return count;
}

/** `queue:<tenant>:<queue>` or `tenant:<tenant>` → the tenant. */
export function tenantOfRoom(room: Room): string {
  return room.split(':')[1];
}
