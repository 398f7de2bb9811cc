import { isTerminal, terminalEventTypes, type ConveyorEvent, type ExecutionView } from '@conveyor/contracts/core';
import { isRefusal, type RealtimeConnection } from './realtime-connection.js';

export interface WatchHandlers {
  /** The execution as it was when the watch began. */
  onSnapshot?(execution: ExecutionView): void;
  /** Each event once, in order (log lines, which have no seq, as they come). */
  onEvent?(event: ConveyorEvent): void;
}

/** A running watch of one execution: see `ConveyorClient.watch`. */
export class ExecutionWatch {
  /** Resolves with the execution once it has ended (read again after its last event). */
  readonly done: Promise<ExecutionView>;
  /** The events received, deduplicated by seq. */
  readonly events: ConveyorEvent[] = [];
  private lastSeq: number | null;
  /** The snapshot's seq once it came: ending events before it are history, not the end. */
  private snapshotSeq: number | null = null;
  private finished = false;
  private stopped = false;
  /** Subscriptions sent and not answered yet: until then, events of the execution are not this watch's. */
  private pending = 0;
  private settle!: { resolve: (execution: ExecutionView) => void; reject: (error: Error) => void };
  /** What `stop` undoes: the hold on the room, the listeners, a pending retry. */
  private readonly stops: (() => void)[];

  constructor(
    readonly executionId: string,
    /** The shared socket.io connection (its `socket` tells whether it is connected). */
    readonly connection: RealtimeConnection,
    private readonly handlers: WatchHandlers,
    private readonly readExecution: () => Promise<ExecutionView>,
    /** Replay the events after this seq first (`0`: the whole history); unset: from the snapshot on. */
    since?: number,
  ) {
    this.lastSeq = since ?? null;
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.stops = [
      connection.hold({ execution: executionId }),
      connection.onEvent((event) => this.receive(event)),
      connection.onReconnect(() => this.subscribe()),
    ];
    this.subscribe();
  }

  /** Stops receiving (`done` stays pending if the execution has not ended). */
  stop(): void {
    this.stopped = true;
    this.stops.forEach((stop) => stop());
  }

  private subscribe(): void {
    const since = this.lastSeq === null ? {} : { since: this.lastSeq };
    this.pending++;
    this.connection.subscribe<ExecutionView>({ execution: this.executionId, ...since }, (ack) => {
      this.pending--;
      if (this.stopped) return;
      if (ack instanceof Error && !isRefusal(ack)) return void this.stops.push(this.connection.retryLater(() => this.subscribe()));
      if (ack instanceof Error) {
        this.stop();
        return this.settle.reject(ack);
      }
      // Events trimmed from the log are gone for good: the replay starts after them.
      if (ack.firstSeq !== undefined && this.lastSeq !== null) this.lastSeq = Math.max(this.lastSeq, ack.firstSeq - 1);
      if (this.snapshotSeq !== null) return;
      this.snapshotSeq = ack.snapshot.seq;
      this.lastSeq ??= ack.snapshot.seq;
      this.handlers.onSnapshot?.(ack.snapshot);
      // The ending event is the last numbered one; unless it is still to come in the replay or
      // live (BullMQ can finish a job just before the worker writes it), the watch is over.
      if (isTerminal(ack.snapshot.status) && this.lastSeq >= ack.snapshot.seq) this.finish();
    });
  }

  private receive(event: ConveyorEvent): void {
    if (event.executionId !== this.executionId) return;
    // Before the answer, numbered events come from the client's rooms or other watches, not from
    // this subscription; the replay that follows the answer brings them in order.
    if (this.pending > 0 && event.seq !== undefined) return;
    if (event.seq !== undefined && this.lastSeq !== null) {
      if (event.seq <= this.lastSeq) return;
      // A gap (another watch of this execution subscribed the socket again): ask for what is missing.
      if (event.seq > this.lastSeq + 1) return this.subscribe();
    }
    if (event.seq !== undefined) this.lastSeq = event.seq;
    this.events.push(event);
    this.handlers.onEvent?.(event);
    if (terminalEventTypes.has(event.type) && this.snapshotSeq !== null && (event.seq ?? 0) >= this.snapshotSeq) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stop();
    this.readExecution().then(this.settle.resolve, this.settle.reject);
  }
}
