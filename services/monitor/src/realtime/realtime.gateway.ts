import { Inject, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import {
  catalogQueues,
  DomainError,
  ExecutionSubscriptionDto,
  inTenant,
  isId,
  isPlainObject,
  jsonShapeProblems,
  shownId,
  limits,
  QueueSubscriptionDto,
  ScheduleSubscriptionDto,
  TenantSubscriptionDto,
  validateAs,
  type ConveyorEvent,
  type SubscribeAck,
} from '@conveyor/contracts';
import { ExecutionReader, ExecutionStore } from '@conveyor/executions';
import { readTenant, sees, seesRooms, type Principal } from '@conveyor/identity';
import { exportMonitorGauges, metricsOn } from '@conveyor/metrics';
import type { EventLogPage } from '@conveyor/redis';
import { ScheduleService, ScheduleStore } from '@conveyor/schedules';
import { LOGGER, type Logger } from '@conveyor/service';
import { EventRelay, queueRoom, tenantOfRoom, tenantRoom, type Room, type Subject } from './event-relay.js';
import { principalOf, SocketAuthenticator } from './socket-authenticator.js';

type Reply = (answer: SubscribeAck<unknown> | { ok: true }) => void;

/** Where a subscription's snapshot and stored events come from. */
interface Source {
  snapshot(): Promise<{ seq: number } | null>;
  readSince(since: number): Promise<EventLogPage<ConveyorEvent>>;
}

/** The subjects this socket follows. */
const followedOf = (socket: Socket): Set<Subject> => (socket.data.followed ??= new Set<Subject>());

// Origins (CORS, and a refusal of foreign ones) are set by the monitor's BrowserFacingIoAdapter, from its configuration.
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, BeforeApplicationShutdown {
  @WebSocketServer() private readonly server!: Server;

  constructor(
    private readonly relay: EventRelay,
    private readonly reader: ExecutionReader,
    private readonly store: ExecutionStore,
    private readonly schedules: ScheduleService,
    private readonly scheduleStore: ScheduleStore,
    private readonly sockets: SocketAuthenticator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * `{ execution: id, since? }` or `{ schedule: id, since? }`: acks with the snapshot, then sends every
   * event after `since` (default: the snapshot's seq), the stored ones first, each exactly once and in
   * order. A schedule's subscribers also get its executions' events as they happen.
   * `{ queue: name }` or `{ tenant: true }`: acks with `{ counts }`, then the live state events (no
   * log lines) of the caller's tenant.
   */
  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: Reply): Promise<void> {
    const reply: Reply = ack ?? (() => undefined);
    const request = parseSubscription(body, principalOf(socket));
    if ('refusal' in request) return reply(request.refusal);
    const key = 'room' in request ? request.room : request.subject;
    if (!isWithinSubscriptionLimit(socket, key)) return reply(tooManySubscriptions);
    const pending = pendingOf(socket);
    pending.add(key);
    try {
      if ('room' in request) return await this.join(socket, request.room, request.queues, reply);
      return await this.follow(socket, request.subject, request.since, reply);
    } finally {
      pending.delete(key);
      // Unsubscribes are counted only while a subscribe is being answered: the count goes with it.
      unsubscribesOf(socket).delete(key as Subject);
    }
  }

  private async follow(socket: Socket, subject: Subject, since: number | undefined, reply: Reply): Promise<void> {
    const unsubscribes = unsubscribesOf(socket);
    const unsubscribed = unsubscribes.get(subject);
    let attached = false;
    try {
      const source = await this.sourceOf(subject, principalOf(socket));
      if (source === 'forbidden') return reply(forbidden('This token does not cover it.'));
      if (!source) return reply(notFound(subject));
      // An unsubscribe (or a disconnect) that comes before the answer is the client's last word: nothing stays attached.
      const withdrawnMeanwhile = () => socket.disconnected || unsubscribes.get(subject) !== unsubscribed;
      if (withdrawnMeanwhile()) return reply(withdrawn);
      const followed = this.relay.subscriberOf(subject, socket.id);
      if (followed) {
        // Another watch of the same client follows it: that feed goes on as it is, and this one is
        // sent the stored events it lacks, up to where the feed has got.
        const answered = await this.answer(subject, source, since, reply, withdrawnMeanwhile);
        for (const event of answered?.events ?? []) if ((event.seq ?? 0) <= followed.position) socket.emit(event.type, event);
        return;
      }
      const subscriber = this.relay.attach(subject, socket, async (from) => (await source.readSince(from)).events);
      followedOf(socket).add(subject);
      attached = true;
      const answered = await this.answer(subject, source, since, reply, withdrawnMeanwhile);
      if (answered) subscriber.catchUp(answered.from, answered.events);
      else this.unfollow(socket, subject);
    } catch (err) {
      this.logger.warn({ err, subject }, 'subscribe failed');
      if (attached) this.unfollow(socket, subject);
      reply(unavailable);
    }
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: Reply): void {
    const request = parseSubscription(body, principalOf(socket));
    if ('subject' in request) {
      const unsubscribes = unsubscribesOf(socket);
      if (pendingOf(socket).has(request.subject)) unsubscribes.set(request.subject, (unsubscribes.get(request.subject) ?? 0) + 1);
      this.unfollow(socket, request.subject);
    }
    if ('room' in request) this.leave(socket, request.room);
    ack?.('refusal' in request ? request.refusal : { ok: true });
  }

  afterInit(server: Server): void {
    if (metricsOn()) exportMonitorGauges(() => server.of('/').sockets.size, () => this.relay.subscriptionCount());
    this.relay.useServer(server);
    this.sockets.guard(server);
  }

  handleConnection(socket: Socket): void {
    this.sockets.watch(socket);
  }

  /** Ends every session on shutdown, so clients reconnect (elsewhere, or here once back) and resubscribe. */
  beforeApplicationShutdown(): void {
    this.server.disconnectSockets(true);
  }

  handleDisconnect(socket: Socket): void {
    this.sockets.forget(socket);
    for (const subject of [...followedOf(socket)]) this.unfollow(socket, subject);
    for (const room of [...roomsOf(socket)]) this.leave(socket, room);
  }

  /** Acks with the snapshot (unless withdrawn meanwhile); returns where the subscription starts (`since`, else the snapshot's seq) and the stored events after it. */
  private async answer(
    subject: Subject,
    source: Source,
    since: number | undefined,
    reply: Reply,
    withdrawnMeanwhile: () => boolean,
  ): Promise<{ from: number; events: ConveyorEvent[] } | null> {
    const snapshot = await source.snapshot();
    if (!snapshot) {
      reply(notFound(subject));
      return null;
    }
    const from = since ?? snapshot.seq;
    const { events, firstSeq } = await source.readSince(from);
    if (withdrawnMeanwhile()) {
      reply(withdrawn);
      return null;
    }
    const truncated = events.length > 0 && firstSeq > from + 1;
    reply({ ok: true, snapshot, ...(truncated ? { truncated: true as const, firstSeq } : {}) });
    return { from, events };
  }

  private async join(socket: Socket, room: Room, queues: readonly string[], reply: Reply): Promise<void> {
    try {
      const counts = await this.store.statusCounts(queues, tenantOfRoom(room));
      // Gone while its counts were read: joining now would leave a member nobody removes.
      if (socket.disconnected) return;
      this.relay.join(room, socket);
      roomsOf(socket).add(room);
      reply({ ok: true, snapshot: { counts } });
    } catch (err) {
      this.logger.warn({ err, room }, 'subscribe failed');
      reply(unavailable);
    }
  }

  private leave(socket: Socket, room: Room): void {
    if (roomsOf(socket).delete(room)) this.relay.leave(room, socket);
  }

  /** Where the subject's snapshot and events come from; `null` when the principal may not know it exists, `forbidden` when a token does not cover it. */
  private async sourceOf(subject: Subject, principal: Principal): Promise<Source | null | 'forbidden'> {
    const [kind, id] = subject.split(':') as ['execution' | 'schedule', string];
    const tenant = readTenant(principal, undefined);
    if (kind === 'execution') {
      const location = await this.store.locate(id);
      if (!location || !inTenant(tenant, location.tenant)) return null;
      if (principal.kind === 'token') {
        const view = await this.reader.get(id, tenant);
        if (!view) return null;
        if (!sees(principal, { execution: id, tenant: view.tenant, tags: view.tags, scheduleId: view.scheduleId })) return 'forbidden';
      }
      return {
        snapshot: () => this.reader.get(id, tenant),
        readSince: (since) => this.store.readEvents(location.queue, id, since),
      };
    }
    const record = await this.scheduleStore.read(id);
    if (!record || !inTenant(tenant, record.tenant)) return null;
    if (!sees(principal, { schedule: id, tenant: record.tenant })) return 'forbidden';
    return {
      snapshot: async () => {
        const current = await this.scheduleStore.read(id);
        return current && this.schedules.view(current);
      },
      readSince: (since) => this.scheduleStore.readEvents(id, since),
    };
  }

  private unfollow(socket: Socket, subject: Subject): void {
    if (!followedOf(socket).delete(subject)) return;
    this.relay.detach(subject, socket.id);
  }
}

type Refusal = { ok: false; code: string; message: string };
type Subscription = { subject: Subject; since?: number } | { room: Room; queues: readonly string[] } | { refusal: Refusal };

/** The request, or the ack refusing it: its shape is checked first (iteratively), so no payload can make validation throw. */
function parseSubscription(body: unknown, principal: Principal): Subscription {
  const shape = jsonShapeProblems(body, { max: 1 });
  if (shape.length > 0) return { refusal: invalid(shape) };
  const has = (key: string) => isPlainObject(body) && key in body;
  const dto = has('schedule') ? ScheduleSubscriptionDto : has('queue') ? QueueSubscriptionDto : has('tenant') ? TenantSubscriptionDto : ExecutionSubscriptionDto;
  const result = validateAs(dto as new () => object, body);
  if (!result.ok) return { refusal: invalid(result.errors) };
  const value = result.value as Partial<ExecutionSubscriptionDto & ScheduleSubscriptionDto & Omit<QueueSubscriptionDto, 'tenant'>> & { tenant?: true | string };
  if (value.queue || value.tenant) {
    if (!seesRooms(principal)) return { refusal: forbidden('This token covers some executions or schedules, not whole rooms.') };
    const tenant = roomTenant(principal, value.tenant === true ? undefined : value.tenant);
    if (typeof tenant !== 'string') return tenant;
    return value.queue ? { room: queueRoom(tenant, value.queue), queues: [value.queue] } : { room: tenantRoom(tenant), queues: catalogQueues };
  }
  const subject: Subject = value.schedule !== undefined ? `schedule:${value.schedule}` : `execution:${value.execution}`;
  // A malformed id is unknown: answered without a lookup, so it never reaches a key name.
  const kind = value.schedule !== undefined ? 'schedule' : 'execution';
  if (!isId(kind, value[kind])) return { refusal: notFound(subject) };
  return { subject, since: value.since };
}

function invalid(errors: { path: string; message: string }[]): Refusal {
  return { ok: false, code: 'validation_failed', message: errors.slice(0, 10).map((e) => `${e.path} ${e.message}`).join('; ') };
}

/** What this socket's subscribes in flight ask for: they count toward its limit before they are attached. */
const pendingOf = (socket: Socket): Set<Subject | Room> => (socket.data.pending ??= new Set<Subject | Room>());

/** Whether the socket may take this subscription: one it holds or is asking for already always, a new one within the limit. */
function isWithinSubscriptionLimit(socket: Socket, key: Subject | Room): boolean {
  const followed = followedOf(socket);
  const rooms = roomsOf(socket);
  const pending = pendingOf(socket);
  const holds = (k: Subject | Room) => followed.has(k as Subject) || rooms.has(k as Room);
  if (holds(key) || pending.has(key)) return true;
  let count = followed.size + rooms.size;
  for (const asked of pending) if (!holds(asked)) count++;
  return count < limits.subscriptionsPerSocket;
}

const tooManySubscriptions = {
  ok: false,
  code: 'too_many_subscriptions',
  message: `A socket holds at most ${limits.subscriptionsPerSocket} subscriptions: unsubscribe from some first.`,
} as const;

/** How many times the socket unsubscribed from each subject. */
const unsubscribesOf = (socket: Socket): Map<Subject, number> => (socket.data.unsubscribes ??= new Map<Subject, number>());

/** The rooms this socket is in. */
const roomsOf = (socket: Socket): Set<Room> => (socket.data.rooms ??= new Set<Room>());

/** The tenant whose room a principal joins: its own, or the one an admin names. */
function roomTenant(principal: Principal, named: string | undefined): string | { refusal: Refusal } {
  try {
    const tenant = readTenant(principal, named);
    if (tenant !== null) return tenant;
    return { refusal: { ok: false, code: 'tenant_required', message: "An admin key acts for every tenant: name the room's tenant ({ tenant: '<name>' })." } };
  } catch (error) {
    if (error instanceof DomainError) return { refusal: { ok: false, code: error.code, message: error.message } };
    throw error;
  }
}

function forbidden(message: string): Refusal {
  return { ok: false, code: 'forbidden', message };
}

const withdrawn = { ok: false, code: 'unsubscribed', message: 'Unsubscribed before the subscription was answered.' } as const;

const unavailable = { ok: false, code: 'redis_unavailable', message: 'Redis is unavailable; try again shortly.' } as const;

function notFound(subject: Subject) {
  const [kind, id] = splitSubject(subject);
  return { ok: false, code: 'not_found', message: `${kind === 'execution' ? 'Execution' : 'Schedule'} ${shownId(id)} was not found.` } as const;
}

/** `execution:<id>` → its kind and id (an id that is not well formed may hold colons itself). */
function splitSubject(subject: Subject): [string, string] {
  const colon = subject.indexOf(':');
  return [subject.slice(0, colon), subject.slice(colon + 1)];
}
