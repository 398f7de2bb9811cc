import type { ExecutionStatus } from './execution-status.js';

/** The REST representation of a queue. */
export interface QueueView {
  name: string;
  /** Paused queues start nothing new (running executions go on). */
  paused: boolean;
  /** The limit of executions running at once across all workers; `null` = only each worker's own. */
  concurrency: number | null;
  counts: Record<ExecutionStatus, number>;
  /** Executions that ended in the last full minute. */
  perMinute: { completed: number; failed: number };
  /**
   * What a worker could start now, across every tenant: the queue's waiting and prioritized jobs. Not
   * scheduled ones, nor those held back by their tenant's `maxRunning` (parked), nor paused ones; `0`
   * while the queue is paused. What an autoscaler reads. Every tenant's, so `null` unless the caller is an admin.
   */
  runnable: number | null;
}

/** `GET /v1/queues/:name/stats`: the queue's last hour, minute by minute, oldest first. */
export interface QueueStatsView {
  queue: string;
  /** Whose executions: the caller's tenant, or `null` for an admin's view of every tenant. */
  tenant: string | null;
  /** The first minute's start and the time of the answer (ISO 8601). */
  from: string;
  to: string;
  /** 60 minutes, the last one the current (partial) minute. */
  minutes: QueueStatsMinute[];
}

export interface QueueStatsMinute {
  /** The minute's start (ISO 8601). */
  at: string;
  /** Executions that ended so, in this minute (every ending: a retried execution that fails again counts again). */
  completed: number;
  failed: number;
  /** Executions whose first attempt started in this minute. */
  started: number;
  /** Their wait from when they were due (submission, or a later run-at) to that start, in ms: the 50th and 95th percentile (within 9 %); `null` when none started. */
  waitP50Ms: number | null;
  waitP95Ms: number | null;
}
