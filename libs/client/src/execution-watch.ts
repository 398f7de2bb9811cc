import type { ConveyorEvent, ExecutionView } from '@conveyor/contracts';
import { ConveyorApiError } from './api-error.js';
import type { RealtimeConnection } from './realtime-connection.js';

export interface WatchHandlers {
  /** The execution as it was when the watch began. */
  onSnapshot?(execution: ExecutionView): void;
  /** Each event once, in order (log lines, which have no seq, as they come). */
  onEvent?(event: ConveyorEvent): void;
}

const endings = new Set(['execution.completed', 'execution.failed', 'execution.cancelled']);
const endedStatuses = new Set(['completed', 'failed', 'cancelled']);

/** A running watch of one execution: see `ConveyorClient.watch`. */
export class ExecutionWatch {
  /** Resolves with the execution once it has ended (read again after its last event). */
  readonly done: Promise<ExecutionView>;
  /** The events received, deduplicated by seq. */
  readonly events: ConveyorEvent[] = [];
  private lastSeq: number | null = null;
  private settle!: { resolve: (execution: ExecutionView) => void; reject: (error: Error) => void };
  private readonly stops: (() => void)[];

  constructor(
    readonly executionId: string,
    /** The shared socket.io connection (its `socket` tells whether it is connected). */
    readonly connection: RealtimeConnection,
    private readonly handlers: WatchHandlers,
    private readonly readExecution: () => Promise<ExecutionView>,
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.stops = [connection.onEvent((event) => this.receive(event)), connection.onReconnect(() => void this.subscribe())];
    void this.subscribe();
  }

  /** Stops receiving (`done` stays pending if the execution has not ended). */
  stop(): void {
    this.stops.forEach((stop) => stop());
    this.connection.unsubscribe({ execution: this.executionId });
  }

  private async subscribe(): Promise<void> {
    try {
      const ack = await this.connection.subscribe<ExecutionView>({ execution: this.executionId, ...(this.lastSeq === null ? {} : { since: this.lastSeq }) });
      if (!ack.ok) throw new ConveyorApiError(ack.code === 'not_found' ? 404 : 400, ack.code, ack.message);
      if (this.lastSeq !== null) return;
      this.lastSeq = ack.snapshot.seq;
      this.handlers.onSnapshot?.(ack.snapshot);
      if (endedStatuses.has(ack.snapshot.status)) this.finish();
    } catch (error) {
      this.stop();
      this.settle.reject(error as Error);
    }
  }

  private receive(event: ConveyorEvent): void {
    if (event.executionId !== this.executionId) return;
    if (event.seq !== undefined) {
      if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
      this.lastSeq = event.seq;
    }
    this.events.push(event);
    this.handlers.onEvent?.(event);
    if (endings.has(event.type)) this.finish();
  }

  private finish(): void {
    this.stop();
    this.readExecution().then(this.settle.resolve, this.settle.reject);
  }
}
