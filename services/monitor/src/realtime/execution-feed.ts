import type { ConveyorEvent } from '@conveyor/contracts';

/** Where a subscriber's events go (a socket.io socket in production). */
export interface EventSink {
  readonly id: string;
  emit(type: string, event: ConveyorEvent): unknown;
}

/** Reads the stored events of the subject with `seq > since`, oldest first. */
export type ReadEventsSince = (since: number) => Promise<ConveyorEvent[]>;

/** Which events of a feed are numbered in its subject's log (the others are relayed as they come). */
export type IsNumbered = (event: ConveyorEvent) => boolean;

export const executionNumbered: IsNumbered = (event) => event.seq !== undefined;
/** A schedule's room also carries its executions' events, numbered in their own logs. */
export const scheduleNumbered: IsNumbered = (event) => event.type.startsWith('schedule.');

/**
 * One subscriber of one execution (or schedule). It sees every numbered event exactly once, in `seq` order:
 * while it catches up from the event log, live events wait in a backlog; afterwards, an event it
 * already has is dropped and a gap (a lost pub/sub message) is filled from the log.
 */
export class FeedSubscriber {
  private lastSeq = 0;
  private backlog: ConveyorEvent[] | null = [];

  constructor(
    readonly sink: EventSink,
    private readonly readSince: ReadEventsSince,
    private readonly onError: (error: unknown) => void,
    private readonly isNumbered: IsNumbered = executionNumbered,
  ) {}

  /** The last numbered event sent (or, while catching up, the point it catches up from). */
  get position(): number {
    return this.lastSeq;
  }

  get catchingUp(): boolean {
    return this.backlog !== null;
  }

  /** Sends the stored events after `since` and then what arrived meanwhile; the subscriber is live afterwards. */
  catchUp(since: number, stored: ConveyorEvent[]): void {
    this.lastSeq = since;
    const arrived = this.backlog ?? [];
    this.backlog = null;
    for (const event of [...stored, ...arrived]) this.deliver(event);
  }

  /** Sends the event now (or, given an outbox, adds the sink to it), holds it back, or drops it. */
  deliver(event: ConveyorEvent, outbox?: EventSink[]): void {
    if (this.backlog) {
      this.backlog.push(event);
      return;
    }
    if (!this.isNumbered(event) || event.seq === undefined) {
      this.send(event, outbox);
      return;
    }
    if (event.seq <= this.lastSeq) return;
    if (event.seq > this.lastSeq + 1) {
      this.refill(event);
      return;
    }
    this.lastSeq = event.seq;
    this.send(event, outbox);
  }

  private send(event: ConveyorEvent, outbox: EventSink[] | undefined): void {
    if (outbox) outbox.push(this.sink);
    else this.sink.emit(event.type, event);
  }

  private refill(event: ConveyorEvent): void {
    this.backlog = [event];
    const since = this.lastSeq;
    this.readSince(since).then(
      (stored) => this.catchUp(since, stored),
      (error) => {
        this.onError(error);
        this.catchUp(since, []);
      },
    );
  }
}

/** The subscribers of one execution (or schedule) on this monitor. */
export class ExecutionFeed {
  private readonly subscribers = new Map<string, FeedSubscriber>();

  constructor(
    private readonly readSince: ReadEventsSince,
    private readonly onError: (error: unknown) => void,
    private readonly isNumbered: IsNumbered = executionNumbered,
  ) {}

  /** Starts collecting live events for `sink` at once; call `catchUp` on the result to start sending. */
  attach(sink: EventSink): FeedSubscriber {
    const subscriber = new FeedSubscriber(sink, this.readSince, this.onError, this.isNumbered);
    this.subscribers.set(sink.id, subscriber);
    return subscriber;
  }

  detach(sinkId: string): void {
    this.subscribers.delete(sinkId);
  }

  subscriberOf(sinkId: string): FeedSubscriber | undefined {
    return this.subscribers.get(sinkId);
  }

  get isEmpty(): boolean {
    return this.subscribers.size === 0;
  }

  /**
   * Delivers to each subscriber not in `skip`, adding those it reached to `skip` (a socket gets an
   * event once); with an outbox, the sinks to send to now go there, to be sent to all at once.
   */
  deliver(event: ConveyorEvent, skip: Set<string> = new Set(), outbox?: EventSink[]): void {
    for (const [id, subscriber] of this.subscribers) {
      if (skip.has(id)) continue;
      subscriber.deliver(event, outbox);
      skip.add(id);
    }
  }
}
