import type { ExecutionStatus } from '../executions/execution-status.js';
import type { ExecutionError, WaitingFor } from '../executions/execution.view.js';
import type { ScheduleView } from '../schedules/schedule.view.js';

/*
 * Event type names are persisted in every execution's event log and used by clients:
 * DO NOT RENAME — add new types instead.
 */

/** Why a schedule's tick made no run: the previous run still going (`overlap: skip`), or the tenant's limits. */
export type ScheduleSkipReason = 'overlap' | 'quota_exceeded';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A stored log line of an execution (`GET /v1/executions/:id/logs`). */
export interface LogLine {
  ts: string;
  level: LogLevel;
  line: string;
}

/** The data each event type carries. */
export interface EventDataMap {
  /** `waitingFor` only when the execution is held back (its tenant runs as many as it may). */
  'execution.queued': { status: 'queued' | 'scheduled'; runAt: string; priority: number; waitingFor?: WaitingFor };
  'execution.started': { attempt: number };
  'execution.progress': { percent: number; step?: number | string; message?: string };
  /** Live only: no `seq`, not replayed (history is at `/logs`). */
  'execution.log': { level: LogLevel; line: string };
  'execution.paused': Record<string, never>;
  'execution.resumed': { fromCheckpoint: boolean };
  'execution.retrying': { error: ExecutionError; attempt: number; willRetry: true; retryAt: string };
  'execution.failed': { error: ExecutionError; attempt: number; willRetry: false };
  'execution.retried': Record<string, never>;
  'execution.recovered': { attempt: number };
  'execution.completed': { result: unknown };
  'execution.cancelled': { reason: string | null };
  'schedule.fired': { executionId: string; scheduledFor: string; manual: boolean };
  'schedule.skipped': { scheduledFor: string; reason: ScheduleSkipReason; blockingExecutionId?: string };
  /** Created, edited, enabled, disabled, finished or deleted; the schedule without its `input` (read it over REST). */
  'schedule.updated': { schedule: Omit<ScheduleView, 'input'> };
  'schedule.paused': { failureStreak: number };
  /** A queue stopped or started handing out work (to every tenant's rooms of the queue). */
  'queue.paused': Record<string, never>;
  'queue.resumed': Record<string, never>;
  /** A queue's executions per status for the room's tenant, at most every `queueCountsIntervalMs` while they change. */
  'queue.counts': { counts: Record<ExecutionStatus, number> };
}

export type EventType = keyof EventDataMap;
export type ExecutionEventType = Extract<EventType, `execution.${string}`>;
export type ScheduleEventType = Extract<EventType, `schedule.${string}`>;
export type QueueEventType = Extract<EventType, `queue.${string}`>;

/** Current version of the stored and published event envelope. */
export const eventFormatVersion = 1;

/** What every event carries besides its data. */
export interface EventEnvelope {
  v: typeof eventFormatVersion;
  executionId?: string;
  scheduleId?: string;
  queue: string;
  task?: string;
  tenant: string;
  /** Per execution (or per schedule), from 1, no gaps; absent on live-only events. */
  seq?: number;
  ts: string;
}

export type ConveyorEvent<T extends EventType = EventType> = {
  [K in T]: EventEnvelope & { type: K; data: EventDataMap[K] };
}[T];

/** Every event type, as a value (for clients that listen to each); a type missing here does not compile. */
export const eventTypes = Object.keys({
  'execution.queued': true,
  'execution.started': true,
  'execution.progress': true,
  'execution.log': true,
  'execution.paused': true,
  'execution.resumed': true,
  'execution.retrying': true,
  'execution.failed': true,
  'execution.retried': true,
  'execution.recovered': true,
  'execution.completed': true,
  'execution.cancelled': true,
  'schedule.fired': true,
  'schedule.skipped': true,
  'schedule.updated': true,
  'schedule.paused': true,
  'queue.paused': true,
  'queue.resumed': true,
  'queue.counts': true,
} satisfies Record<EventType, true>) as EventType[];

/** The events that end an execution (until a retry). */
export const terminalEventTypes: ReadonlySet<EventType> = new Set(['execution.completed', 'execution.failed', 'execution.cancelled']);

/** Event types that are not stored, numbered or replayed. */
export const liveOnlyEventTypes: readonly EventType[] = ['execution.log', 'queue.paused', 'queue.resumed', 'queue.counts'];

/** How often, at most, a room gets a queue's `queue.counts` while its executions change state. */
export const queueCountsIntervalMs = 500;
