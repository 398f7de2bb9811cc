import type { ConveyorEvent } from '@conveyor/contracts';

/** Where a subscriber's events go (a socket.io socket in production). */
export interface EventSink {
  readonly id: string;
  emit(type: string, event: ConveyorEvent): unknown;
}

/** Reads the stored events of the subject with `seq > since`, oldest first. */
export type ReadEventsSince = (since: number) => Promise<ConveyorEvent[]>;

/** How many times a refill reads the log, a second apart, before a gap it cannot read counts as final. */
const refillReads = 4;
const refillRetryMs = 1000;

/** What a feed follows: `execution:<id>` or `schedule:<id>`. */
export type Subject = `${'execution' | 'schedule'}:${string}`;

/**
 * Whether an event is numbered in the subject's own log: an execution's events for an execution, a
 * schedule's `schedule.*` events for a schedule (whose room also relays its executions' events, each
 * numbered in its own log). Only these take part in ordering, dedup and refills.
 */
function isNumberedIn(subject: Subject, event: ConveyorEvent): boolean {
  if (event.seq === undefined) return false;
  return subject.startsWith('execution:')
    ? subject === `execution:${event.executionId}`
    : subject === `schedule:${event.scheduleId}` && event.type.startsWith('schedule.');
}

/**
 * One subscriber of one execution (or schedule). It sees every numbered event exactly once, in `seq` order:
 * while it catches up from the event log, live events wait in a backlog; afterwards, an event it
 * already has is dropped and a gap (a lost pub/sub message) is filled from the log. A gap the log
 * cannot fill (trimmed events) is skipped, so a refill never repeats itself.
 */
export class FeedSubscriber {
  private lastSeq = 0;
  private backlog: ConveyorEvent[] | null = [];
  /** Detached: a refill still under way must send nothing. */
  private closed = false;

  constructor(
    readonly sink: EventSink,
    private readonly subject: Subject,
    private readonly readSince: ReadEventsSince,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The last numbered event sent (or, while catching up, the point it catches up from). */
  get position(): number {
    return this.lastSeq;
  }

  get catchingUp(): boolean {
    return this.backlog !== null;
  }

  /**
   * Sends the stored events after `since` (gaps between them are final: the log no longer has
   * what they skip), then what arrived meanwhile; the subscriber is live afterwards.
   */
  catchUp(since: number, stored: ConveyorEvent[], isRefill = false): void {
    if (this.closed) return;
    this.lastSeq = since;
    const arrived = this.backlog ?? [];
    this.backlog = null;
    for (const event of stored) this.accept(event, true);
    // A refill that brought nothing new would find the same gap again: take the gap as final.
    const broughtNothing = isRefill && !stored.some((event) => this.isNumbered(event) && event.seq! > since);
    // An event here may start another refill: the rest then wait in its backlog.
    for (const event of arrived) this.deliverAfterCatchUp(event, broughtNothing);
  }

  close(): void {
    this.closed = true;
    this.backlog = null;
  }

  /** Sends the event now (or, given an outbox, adds the sink to it), holds it back, or drops it. */
  deliver(event: ConveyorEvent, outbox?: EventSink[]): void {
    if (this.backlog) this.backlog.push(event);
    else this.accept(event, false, outbox);
  }

  private deliverAfterCatchUp(event: ConveyorEvent, gapIsFinal: boolean): void {
    if (this.backlog) this.backlog.push(event);
    else this.accept(event, gapIsFinal);
  }

  private accept(event: ConveyorEvent, gapIsFinal: boolean, outbox?: EventSink[]): void {
    if (!this.isNumbered(event)) return this.send(event, outbox);
    const seq = event.seq!;
    if (seq <= this.lastSeq) return;
    if (seq > this.lastSeq + 1 && !gapIsFinal) return this.refill(event);
    this.lastSeq = seq;
    this.send(event, outbox);
  }

  private isNumbered(event: ConveyorEvent): boolean {
    return isNumberedIn(this.subject, event);
  }

  private send(event: ConveyorEvent, outbox: EventSink[] | undefined): void {
    if (outbox) outbox.push(this.sink);
    else this.sink.emit(event.type, event);
  }

  private refill(event: ConveyorEvent): void {
    this.backlog = [event];
    this.readLog(this.lastSeq, 0);
  }

  /** Reads the log for a refill; a failed read (Redis away) is tried again a few times before the gap counts as final. */
  private readLog(since: number, failures: number): void {
    this.readSince(since).then(
      (stored) => this.catchUp(since, stored, true),
      (error) => {
        this.onError(error);
        if (failures + 1 < refillReads && !this.closed) setTimeout(() => this.readLog(since, failures + 1), refillRetryMs).unref();
        else this.catchUp(since, [], true);
      },
    );
  }
}

/** The subscribers of one execution (or schedule) on this monitor. */
export class ExecutionFeed {
  private readonly subscribers = new Map<string, FeedSubscriber>();

  constructor(
    private readonly subject: Subject,
    private readonly readSince: ReadEventsSince,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts collecting live events for `sink` at once; call `catchUp` on the result to start sending. */
  attach(sink: EventSink): FeedSubscriber {
    const subscriber = new FeedSubscriber(sink, this.subject, this.readSince, this.onError);
    this.subscribers.set(sink.id, subscriber);
    return subscriber;
  }

  detach(sinkId: string): void {
    this.subscribers.get(sinkId)?.close();
    this.subscribers.delete(sinkId);
  }

  subscriberOf(sinkId: string): FeedSubscriber | undefined {
    return this.subscribers.get(sinkId);
  }

  get isEmpty(): boolean {
    return this.subscribers.size === 0;
  }

  get size(): number {
    return this.subscribers.size;
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
