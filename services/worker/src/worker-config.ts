import type { WorkerConfig } from '@conveyor/config';
import { catalogQueues } from '@conveyor/contracts';

/** Injection token of the worker's validated `WorkerConfig`. */
export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

/** The consumed queues that hold executions (not the schedule ticks'). */
export function executionQueuesOf(config: WorkerConfig): string[] {
  return config.queues.filter((queue) => catalogQueues.includes(queue));
}
