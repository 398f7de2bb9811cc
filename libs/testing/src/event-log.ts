import type { ConveyorClient, ExecutionWatch, RoomHandlers, SubmitOptions, WatchHandlers } from '@conveyor/client';
import type { ConveyorEvent, EventType, TaskInput, TaskName, TaskOf } from '@conveyor/contracts';

/**
 * Events in arrival order, and a wait for one that may be still to come. Give it as the handlers
 * of the client's `watch` or `follow`; a raw socket feeds it too.
 */
export class EventLog implements WatchHandlers, RoomHandlers {
  readonly events: ConveyorEvent[] = [];
  private readonly waiters = new Set<() => void>();

  onEvent(event: ConveyorEvent): void {
    this.events.push(event);
    this.waiters.forEach((wake) => wake());
  }

  /** Resolves with the first event of `type` that matches, received or still to come. */
  waitFor<T extends EventType>(type: T, match: (event: ConveyorEvent<T>) => boolean = () => true, timeoutMs?: number): Promise<ConveyorEvent<T>> {
    return this.waitUntil((event) => event.type === type && match(event as ConveyorEvent<T>), type, timeoutMs) as Promise<ConveyorEvent<T>>;
  }

  /** Resolves with the first event that matches, received or still to come (the timeout only guards hangs). */
  protected waitUntil(match: (event: ConveyorEvent) => boolean, label: string, timeoutMs = 20_000): Promise<ConveyorEvent> {
    const found = this.events.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const event = this.events.find(match);
        if (!event) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(event);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`Timed out waiting for ${label}; received: ${this.events.map((e) => `${e.type}#${e.seq}`).join(', ')}`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }
}

/** The client's watch of an execution's whole history and live events (`since: 0`), with a wait for any one of them. */
export type FullWatch = ExecutionWatch & Pick<EventLog, 'waitFor'>;

export function watchFromStart(client: ConveyorClient, executionId: string): FullWatch {
  const log = new EventLog();
  return Object.assign(client.watch(executionId, log, { since: 0 }), { waitFor: log.waitFor.bind(log) });
}

/** Submits through the client and watches the execution from its first event. */
export async function submitAndWatch<N extends TaskName>(client: ConveyorClient, task: N, input: TaskInput<TaskOf<N>>, options?: SubmitOptions): Promise<FullWatch> {
  return watchFromStart(client, (await client.submit(task, input, options)).id);
}
