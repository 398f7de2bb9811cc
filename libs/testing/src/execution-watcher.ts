import type { Socket } from 'socket.io-client';
import type { CountsSnapshot, SubscribeAck } from '@conveyor/contracts';
import { eventTypes, terminalEventTypes, type ConveyorEvent, type ExecutionView, type ScheduleView } from '@conveyor/contracts/core';
import { connectSocket, type SocketOptions } from './monitor-socket.js';
import { EventLog } from './event-log.js';

/** Whether the event announces an execution held back by its tenant's `maxRunning`. */
export function isTenantHold(event: ConveyorEvent): boolean {
  return event.type === 'execution.queued' && event.data.waitingFor === 'tenant_concurrency';
}

/** The events a watcher records: an execution's and a schedule's (rooms' queue events are not its subject). */
const recorded = eventTypes.filter((type) => !type.startsWith('queue.'));

/**
 * A raw socket.io client of the monitor that records every event it receives, in order: for tests
 * of the wire protocol itself (acks, delivery per socket), where the client SDK would hide it.
 */
export class ExecutionWatcher extends EventLog {
  private constructor(readonly socket: Socket) {
    super();
    for (const type of recorded) socket.on(type, (event: ConveyorEvent) => this.onEvent(event));
  }

  /** Connects (with a key or token once auth is on); rejects with the `connect_error`. */
  static async connect(monitorUrl: string, options: SocketOptions = {}): Promise<ExecutionWatcher> {
    return new ExecutionWatcher(await connectSocket(monitorUrl, options));
  }

  subscribe(execution: string, since?: number): Promise<SubscribeAck<ExecutionView>> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', { execution, ...(since === undefined ? {} : { since }) });
  }

  subscribeSchedule(schedule: string, since?: number): Promise<SubscribeAck<ScheduleView>> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', { schedule, ...(since === undefined ? {} : { since }) });
  }

  /** A queue or tenant room: `{ queue }`, `{ tenant: true }`, or an admin's `{ tenant: '<name>' }` / `{ queue, tenant: '<name>' }`. */
  subscribeRoom(room: { queue?: string; tenant?: true | string }): Promise<SubscribeAck<CountsSnapshot>> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', room);
  }

  /** Events of one execution, in arrival order. */
  of(executionId: string): ConveyorEvent[] {
    return this.events.filter((event) => event.executionId === executionId);
  }

  /** The seqs of the numbered events of one execution, in arrival order (log lines have none). */
  seqs(executionId: string): number[] {
    return this.of(executionId).flatMap((event) => (event.seq === undefined ? [] : [event.seq]));
  }

  /** Waits for the execution's terminal event. */
  waitForEnd(executionId: string): Promise<ConveyorEvent> {
    return this.waitUntil((e) => e.executionId === executionId && terminalEventTypes.has(e.type), `the end of ${executionId}`);
  }

  close(): void {
    this.socket.close();
  }
}
