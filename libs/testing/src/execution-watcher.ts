import { io, type Socket } from 'socket.io-client';
import type { ConveyorEvent, EventType, ExecutionView, ScheduleView, SubscribeAck } from '@conveyor/contracts';

const eventTypes: EventType[] = [
  'execution.queued',
  'execution.started',
  'execution.progress',
  'execution.log',
  'execution.paused',
  'execution.resumed',
  'execution.retrying',
  'execution.failed',
  'execution.retried',
  'execution.recovered',
  'execution.completed',
  'execution.cancelled',
  'schedule.fired',
  'schedule.skipped',
  'schedule.updated',
  'schedule.paused',
];

const terminal = new Set<EventType>(['execution.completed', 'execution.failed', 'execution.cancelled']);

/** A real socket.io client that subscribes to executions and records every event it receives, in order. */
export class ExecutionWatcher {
  readonly events: ConveyorEvent[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    for (const type of eventTypes) {
      socket.on(type, (event: ConveyorEvent) => {
        this.events.push(event);
        this.waiters.forEach((wake) => wake());
      });
    }
  }

  static async connect(monitorUrl: string): Promise<ExecutionWatcher> {
    const socket = io(monitorUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return new ExecutionWatcher(socket);
  }

  subscribe(execution: string, since?: number): Promise<SubscribeAck<ExecutionView>> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', { execution, ...(since === undefined ? {} : { since }) });
  }

  subscribeSchedule(schedule: string, since?: number): Promise<SubscribeAck<ScheduleView>> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', { schedule, ...(since === undefined ? {} : { since }) });
  }

  /** Subscribes to an execution's whole history and live events; returns it. */
  async follow(execution: ExecutionView): Promise<ExecutionView> {
    const ack = await this.subscribe(execution.id, 0);
    if (!ack.ok) throw new Error(`Could not subscribe to ${execution.id}: ${ack.message}`);
    return execution;
  }

  /** Events of one execution, in arrival order. */
  of(executionId: string): ConveyorEvent[] {
    return this.events.filter((event) => event.executionId === executionId);
  }

  /** The seqs of the numbered events of one execution, in arrival order (log lines have none). */
  seqs(executionId: string): number[] {
    return this.of(executionId).flatMap((event) => (event.seq === undefined ? [] : [event.seq]));
  }

  /** Resolves with the first recorded event matching, waiting for it if needed (the timeout only guards hangs). */
  waitFor(match: (event: ConveyorEvent) => boolean, label: string, timeoutMs = 20_000): Promise<ConveyorEvent> {
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

  /** Waits for the execution's terminal event. */
  waitForEnd(executionId: string, timeoutMs?: number): Promise<ConveyorEvent> {
    return this.waitFor((e) => e.executionId === executionId && terminal.has(e.type), `the end of ${executionId}`, timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}
