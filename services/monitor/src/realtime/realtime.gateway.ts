import { Inject } from '@nestjs/common';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import {
  defaultTenant,
  ExecutionSubscriptionDto,
  validateAs,
  type ExecutionView,
  type SubscribeAck,
} from '@conveyor/contracts';
import { ExecutionReader, ExecutionStore } from '@conveyor/executions';
import { LOGGER, type Logger } from '@conveyor/service';
import { EventRelay } from './event-relay.js';

type Reply = (answer: SubscribeAck<ExecutionView> | { ok: true }) => void;

/** What this socket follows: execution id → queue. */
const followedOf = (socket: Socket): Map<string, string> => (socket.data.followed ??= new Map<string, string>());

@WebSocketGateway({ cors: { origin: true } })
export class RealtimeGateway implements OnGatewayDisconnect {
  constructor(
    private readonly relay: EventRelay,
    private readonly reader: ExecutionReader,
    private readonly store: ExecutionStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Acks with the snapshot, then sends every event after `since` (default: the snapshot's seq),
   * the stored ones first, each exactly once and in order.
   */
  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: Reply): Promise<void> {
    const reply: Reply = ack ?? (() => undefined);
    const request = validateAs(ExecutionSubscriptionDto, body);
    if (!request.ok) {
      reply({ ok: false, code: 'validation_failed', message: request.errors.map((e) => `${e.path} ${e.message}`).join('; ') });
      return;
    }
    const { execution: id, since } = request.value;
    const location = await this.store.locate(id).catch(() => undefined);
    if (location === undefined) return reply(unavailable);
    if (!location || location.tenant !== tenantOf(socket)) return reply(notFound(id));

    this.unfollow(socket, id);
    const subscriber = this.relay.attach(id, location.queue, socket);
    followedOf(socket).set(id, location.queue);
    try {
      const snapshot = await this.reader.get(id, tenantOf(socket));
      if (!snapshot) {
        this.unfollow(socket, id);
        return reply(notFound(id));
      }
      const from = since ?? snapshot.seq;
      const { events, firstSeq } = await this.store.readEvents(location.queue, id, from);
      const truncated = events.length > 0 && firstSeq > from + 1;
      reply({ ok: true, snapshot, ...(truncated ? { truncated: true as const, firstSeq } : {}) });
      subscriber.catchUp(from, events);
    } catch (err) {
      this.logger.warn({ err, executionId: id }, 'subscribe failed');
      this.unfollow(socket, id);
      reply(unavailable);
    }
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: Reply): void {
    const request = validateAs(ExecutionSubscriptionDto, body);
    if (request.ok) this.unfollow(socket, request.value.execution);
    ack?.(request.ok ? { ok: true } : { ok: false, code: 'validation_failed', message: 'execution must be an execution id' });
  }

  handleDisconnect(socket: Socket): void {
    for (const id of [...followedOf(socket).keys()]) this.unfollow(socket, id);
  }

  private unfollow(socket: Socket, id: string): void {
    if (!followedOf(socket).delete(id)) return;
    this.relay.detach(id, socket.id);
  }
}

/** Every socket acts for the default tenant until authentication exists. */
function tenantOf(_socket: Socket): string {
  return defaultTenant;
}

const unavailable = { ok: false, code: 'redis_unavailable', message: 'Redis is unavailable; try again shortly.' } as const;

function notFound(id: string) {
  return { ok: false, code: 'not_found', message: `Execution ${id} was not found.` } as const;
}
