import { io, type Socket } from 'socket.io-client';
import type { SubscribeAck } from '@conveyor/contracts';
import { eventTypes, terminalEventTypes, type ConveyorEvent, type ExecutionView, type ScheduleView } from '@conveyor/contracts/core';
import { EventLog } from './event-log.js';

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
