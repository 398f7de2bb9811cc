import { eventEnvelope, queueCountsIntervalMs, type ConveyorEvent, type ExecutionStatus } from '@conveyor/contracts';

type Counts = Record<ExecutionStatus, number>;

/**
 * Sends a queue's counts to its rooms at most every `queueCountsIntervalMs` while its executions
 * change state: one read per queue and tenant per interval, however many events there were.
 */
export class QueueCountsBroadcast {
  /** `tenant` and `queue` pairs changed since the last send, joined by a newline. */
  private readonly changed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly readCounts: (queue: string, tenant: string) => Promise<Counts>,
    private readonly send: (event: ConveyorEvent<'queue.counts'>) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Notes that an execution of the queue changed state. */
  changedIn(tenant: string, queue: string): void {
    if (this.stopped) return;
    this.changed.add(`${tenant}\n${queue}`);
    this.timer ??= setTimeout(() => void this.sendChanged(), queueCountsIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async sendChanged(): Promise<void> {
    const pairs = [...this.changed].map((pair) => pair.split('\n') as [string, string]);
    this.changed.clear();
    await Promise.all(
      pairs.map(async ([tenant, queue]) => {
        try {
          const counts = await this.readCounts(queue, tenant);
          this.send(eventEnvelope({ type: 'queue.counts', queue, tenant, data: { counts } }));
        } catch (error) {
          this.onError(error);
        }
      }),
    );
    this.timer = null;
    // Changes that came in while reading wait for the next interval.
    if (this.changed.size > 0 && !this.stopped) this.timer = setTimeout(() => void this.sendChanged(), queueCountsIntervalMs);
  }
}
