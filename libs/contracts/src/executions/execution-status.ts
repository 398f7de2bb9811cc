/** What a client reads as an execution's status (derived from BullMQ's state plus Conveyor's facts). */
export const executionStatuses = ['queued', 'scheduled', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

export const terminalStatuses: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];
export const activeStatuses: readonly ExecutionStatus[] = ['queued', 'scheduled', 'running', 'paused'];

export function isTerminal(status: ExecutionStatus): boolean {
  return terminalStatuses.includes(status);
}
