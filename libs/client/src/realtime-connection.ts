import { io, type Socket } from 'socket.io-client';
import type { ConveyorEvent, SubscribeAck } from '@conveyor/contracts';

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
  }

  subscribe<S>(request: object): Promise<SubscribeAck<S>> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', request);
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
