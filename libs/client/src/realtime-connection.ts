import { io, type Socket } from 'socket.io-client';
import type { ConveyorEvent, SubscribeAck } from '@conveyor/contracts';
import { ConveyorApiError } from './api-error.js';

const refusalStatus: Record<string, number> = { not_found: 404, redis_unavailable: 503 };

/** The monitor said no for good (not found, invalid): no use asking again, unlike a dropped connection or a Redis outage. */
export function isRefusal(error: Error): boolean {
  return error instanceof ConveyorApiError && error.statusCode < 500;
}

/** One socket.io connection to a monitor, shared by a client's watches. */
export class RealtimeConnection {
  readonly socket: Socket;
  private readonly eventListeners = new Set<(event: ConveyorEvent) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly holders = new Map<string, number>();
  private connectedBefore = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  /** `credential` is asked again at every (re)connect: a browser token may have been renewed meanwhile. */
  constructor(url: string, credential: () => Promise<string | undefined>) {
    this.socket = io(url, {
      transports: ['websocket'],
      auth: (send) => void credential().then((token) => send(token ? { token } : {}), () => send({})),
    });
    this.socket.onAny((_type: string, event: ConveyorEvent) => this.eventListeners.forEach((listener) => listener(event)));
    this.socket.on('connect', () => {
      // socket.io reconnects by itself; the monitor's rooms do not survive that, so watches subscribe again.
      if (this.connectedBefore) this.reconnectListeners.forEach((listener) => listener());
      this.connectedBefore = true;
    });
    // socket.io does not reconnect by itself when the server ended the session; a monitor that
    // drops its clients (restart, rebalancing) is reconnected to like a dropped transport.
    // That includes a token's expiry: the next connect asks for a fresh credential.
    this.socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') this.socket.connect();
    });
    // A refused handshake (`unauthorized`) is not retried by socket.io: a credential renewed
    // meanwhile may be accepted, so it is asked for again, a second later.
    this.socket.on('connect_error', () => {
      if (!this.socket.active) this.retryTimer = setTimeout(() => this.socket.connect(), 1000);
    });
  }

  /**
   * Calls `onAck` with the snapshot, or with an Error when the monitor refused or did not answer.
   * A callback, not a promise: a promise's continuation would run after the events the monitor
   * sends right behind the ack.
   */
  subscribe<S>(request: object, onAck: (outcome: Extract<SubscribeAck<S>, { ok: true }> | Error) => void): void {
    this.socket.timeout(10_000).emit('subscribe', request, (error: Error | null, ack: SubscribeAck<S>) => {
      if (error) onAck(error);
      else if (!ack.ok) onAck(new ConveyorApiError(refusalStatus[ack.code] ?? 400, ack.code, ack.message));
      else onAck(ack);
    });
  }

  /**
   * Counts one more watch or follow of a room (a subscription request without `since`); the
   * function returned ends it, and tells the monitor to unsubscribe once no other one holds the room.
   */
  hold(room: object): () => void {
    const key = JSON.stringify(room);
    this.holders.set(key, (this.holders.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.holders.get(key) ?? 1) - 1;
      if (left > 0) return void this.holders.set(key, left);
      this.holders.delete(key);
      this.socket.emit('unsubscribe', room);
    };
  }

  /** Calls `listener` with every event; returns the way to stop. */
  onEvent(listener: (event: ConveyorEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /**
   * After a subscription went unanswered or Redis was down: tries again in a second while connected
   * (a reconnect subscribes again anyway), or at the first connect when there has been none yet (a
   * monitor down or unreachable when the page opened). Returns the way to cancel.
   */
  retryLater(subscribe: () => void): () => void {
    if (!this.socket.connected && !this.connectedBefore) {
      const once = () => subscribe();
      this.socket.once('connect', once);
      return () => this.socket.off('connect', once);
    }
    if (!this.socket.connected) return () => undefined;
    const timer = setTimeout(subscribe, 1000);
    return () => clearTimeout(timer);
  }

  close(): void {
    clearTimeout(this.retryTimer);
    this.socket.close();
  }
}
