import { io, type Socket } from 'socket.io-client';
import type { ConveyorEvent, SubscribeAck } from '@conveyor/contracts';
import { ConveyorApiError } from './api-error.js';

const refusalStatus: Record<string, number> = { not_found: 404, redis_unavailable: 503 };

/** One socket.io connection to a monitor, shared by a client's watches. */
export class RealtimeConnection {
  readonly socket: Socket;
  private readonly eventListeners = new Set<(event: ConveyorEvent) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private connectedBefore = false;

  constructor(url: string, token?: string) {
    this.socket = io(url, { transports: ['websocket'], ...(token ? { auth: { token } } : {}) });
    this.socket.onAny((_type: string, event: ConveyorEvent) => this.eventListeners.forEach((listener) => listener(event)));
    this.socket.on('connect', () => {
      // socket.io reconnects by itself; the monitor's rooms do not survive that, so watches subscribe again.
      if (this.connectedBefore) this.reconnectListeners.forEach((listener) => listener());
      this.connectedBefore = true;
    });
    // socket.io does not reconnect by itself when the server ended the session; a monitor that
    // drops its clients (restart, rebalancing) is reconnected to like a dropped transport.
    this.socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') this.socket.connect();
    });
  }

  /**
   * Calls `onAck` with the snapshot, or with an Error when the monitor refused or did not answer.
   * A callback, not a promise: a promise's continuation would run after the events the monitor
   * sends right behind the ack.
   */
  subscribe<S>(request: object, onAck: (outcome: { snapshot: S } | Error) => void): void {
    this.socket.timeout(10_000).emit('subscribe', request, (error: Error | null, ack: SubscribeAck<S>) => {
      if (error) onAck(error);
      else if (!ack.ok) onAck(new ConveyorApiError(refusalStatus[ack.code] ?? 400, ack.code, ack.message));
      else onAck(ack);
    });
  }

  unsubscribe(request: object): void {
    this.socket.emit('unsubscribe', request);
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

  close(): void {
    this.socket.close();
  }
}
