import type { ConveyorEvent, CountsSnapshot, ExecutionStatus } from '@conveyor/contracts';
import { isRefusal, type RealtimeConnection } from './realtime-connection.js';

/** A queue's room (the caller's tenant's executions of it) or everything of the caller's tenant. */
export type RoomRequest = { queue: string } | { tenant: true };

export interface RoomHandlers {
  /** Executions per status on joining, and again on rejoining after a reconnect. */
  onCounts?(counts: Record<ExecutionStatus, number>): void;
  /** Each live event of the room: state changes, coalesced progress, `schedule.*` and `queue.*` (no log lines). */
  onEvent?(event: ConveyorEvent): void;
}

/** A followed room: see `ConveyorClient.follow`. */
export class RoomFollow {
  /** Resolves with the counts once joined; rejects when the monitor refuses the request. */
  readonly joined: Promise<CountsSnapshot>;
  private readonly stops: (() => void)[];
  private stopped = false;
  /** Per execution, the last seq passed on. */
  private readonly lastSeqs = new Map<string, number>();

  constructor(
    readonly room: RoomRequest,
    readonly connection: RealtimeConnection,
    private readonly handlers: RoomHandlers,
  ) {
    this.stops = [connection.hold(room), connection.onEvent((event) => this.receive(event)), connection.onReconnect(() => this.join())];
    this.joined = new Promise((resolve, reject) => this.join((outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome))));
    this.joined.catch(() => this.stop());
  }

  stop(): void {
    this.stopped = true;
    this.stops.forEach((stop) => stop());
  }

  /** Joins (again), calling back with the counts or the refusal; tries again when nobody answered. */
  private join(settle: (outcome: CountsSnapshot | Error) => void = () => undefined): void {
    this.connection.subscribe<CountsSnapshot>(this.room, (ack) => {
      if (this.stopped) return;
      if (ack instanceof Error && !isRefusal(ack)) return void this.stops.push(this.connection.retryLater(() => this.join(settle)));
      if (ack instanceof Error) return settle(ack);
      this.handlers.onCounts?.(ack.snapshot.counts);
      settle(ack.snapshot);
    });
  }

  private receive(event: ConveyorEvent): void {
    if (event.type === 'execution.log') return;
    if ('queue' in this.room && event.queue !== this.room.queue) return;
    if (event.executionId && event.seq !== undefined) {
      // The socket is shared: a watch's replay brings events this room passed on already.
      if (event.seq <= (this.lastSeqs.get(event.executionId) ?? 0)) return;
      this.lastSeqs.set(event.executionId, event.seq);
    }
    this.handlers.onEvent?.(event);
  }
}
