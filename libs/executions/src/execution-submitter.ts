import { monotonicFactory } from 'ulid';
import {
  priorityNumber,
  type AnyTask,
  type BackoffPolicy,
  type ExecutionView,
  type Priority,
  type TaskInput,
} from '@conveyor/contracts';
import { storedFormatVersion, type ExecutionJobData, type ExecutionRecord } from './execution-record.js';
import type { ExecutionQueues } from './execution-queues.js';
import type { ExecutionStore } from './execution-store.js';
import { toExecutionView } from './execution-view.js';

/** Per-submission choices; whatever is unset comes from the task's defaults. */
export interface SubmitOptions {
  priority?: Priority;
  /** Start no earlier than this (a past time runs now). */
  runAt?: Date;
  attempts?: number;
  backoff?: BackoffPolicy;
  timeoutMs?: number | null;
  tags?: string[];
  scheduleId?: string;
  scheduledFor?: Date;
}

/** The BullMQ backoff type whose delay the worker computes (and announces in `execution.retrying`). */
export const conveyorBackoffType = 'conveyor';

const nextUlid = monotonicFactory();

export function newExecutionId(): string {
  return `exec_${nextUlid()}`;
}

/** The one path by which executions come to exist: REST, batch, schedules and the SDK all use it. */
export class ExecutionSubmitter {
  constructor(
    private readonly store: ExecutionStore,
    private readonly queues: ExecutionQueues,
  ) {}

  async submit<T extends AnyTask>(task: T, input: TaskInput<T>, options: SubmitOptions, tenant: string): Promise<ExecutionView> {
    const now = Date.now();
    const id = newExecutionId();
    const runAt = Math.max(now, options.runAt?.getTime() ?? now);
    const status = runAt > now ? 'scheduled' : 'queued';
    const attempts = options.attempts ?? task.defaults.attempts;
    const priority = priorityNumber(options.priority ?? task.defaults.priority);
    const record: Omit<ExecutionRecord, 'seq'> = {
      id,
      task: task.name,
      queue: task.queue,
      tenant,
      status,
      priority,
      tags: options.tags ?? [],
      scheduleId: options.scheduleId ?? null,
      scheduledFor: options.scheduledFor?.getTime() ?? null,
      createdAt: now,
      runAt,
      startedAt: null,
      finishedAt: null,
      attemptsMade: 0,
      attemptsMax: attempts,
      progress: null,
      error: null,
      pendingAction: null,
      cancelReason: null,
    };
    const data: ExecutionJobData = {
      v: storedFormatVersion,
      tenant,
      input,
      timeoutMs: options.timeoutMs === undefined ? task.defaults.timeoutMs : options.timeoutMs,
      backoff: options.backoff ?? task.defaults.backoff,
    };
    // The record (with event 1) exists before the job, so a worker never meets a job without one.
    await this.store.create(record, { status, runAt: new Date(runAt).toISOString(), priority });
    try {
      await this.queues.get(task.queue).add(task.name, data, {
        jobId: id,
        priority,
        delay: runAt - now,
        attempts,
        backoff: { type: conveyorBackoffType },
        // Conveyor's retention removes a job together with its record, events and logs.
        removeOnComplete: false,
        removeOnFail: false,
      });
    } catch (error) {
      // Not acknowledged, so not kept: a record without a job would read as queued forever.
      await this.store.forget(record).catch(() => undefined);
      throw error;
    }
    return toExecutionView({ ...record, seq: 1 }, status, { input, result: null, failedReason: null, finishedOn: null });
  }
}
