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
}
