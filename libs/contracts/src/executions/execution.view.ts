import type { ExecutionStatus } from './execution-status.js';

/** Why an attempt failed, as clients see it. */
export interface ExecutionError {
  message: string;
  name: string;
  /** Stable, machine-readable: `timeout`, `invalid_input`, `host_not_allowed` … */
  code?: string;
  retryable: boolean;
}

export interface ExecutionProgress {
  percent: number;
  step: number | string | null;
  message: string | null;
}

/** Why a queued execution is not running yet, when Conveyor holds it back: its tenant runs as many as its `maxRunning`. */
export type WaitingFor = 'tenant_concurrency';

/** The REST representation of an execution (also the monitor's snapshot). Times are ISO 8601 UTC. */
export interface ExecutionView<Input = unknown, Output = unknown> {
  id: string;
  task: string;
  queue: string;
  tenant: string;
  status: ExecutionStatus;
  priority: number;
  input: Input;
  tags: string[];
  scheduleId: string | null;
  scheduledFor: string | null;
  progress: ExecutionProgress | null;
  attempts: { made: number; max: number };
  result: Output | null;
  error: ExecutionError | null;
  pendingAction: 'cancel' | 'pause' | null;
  cancelReason: string | null;
  /** Set while the execution is held back (it reads `queued`); `null` otherwise. */
  waitingFor: WaitingFor | null;
  /** The number of the execution's last event. */
  seq: number;
  createdAt: string;
  runAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** What a list may be asked to include besides each execution's summary (`?include=input,result`). */
export const listIncludes = ['input', 'result'] as const;
export type ListInclude = (typeof listIncludes)[number];

/**
 * An execution as lists return it: without `input` and `result` unless the list was asked to
 * include them, so that a page stays small whatever the executions carry.
 */
export type ExecutionSummary = Omit<ExecutionView, 'input' | 'result'> & Partial<Pick<ExecutionView, 'input' | 'result'>>;
