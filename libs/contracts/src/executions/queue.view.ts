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
