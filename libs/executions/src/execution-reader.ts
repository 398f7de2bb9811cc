import type { ExecutionView } from '@conveyor/contracts';
import type { ExecutionQueues } from './execution-queues.js';
import type { ExecutionStore } from './execution-store.js';
import { deriveStatus, toExecutionView } from './execution-view.js';

/** Reads executions as clients see them: Conveyor's record combined with the BullMQ job. */
export class ExecutionReader {
  constructor(
    private readonly store: ExecutionStore,
    private readonly queues: ExecutionQueues,
  ) {}

  /** The execution, or `null` when the id is unknown or belongs to another tenant. */
  async get(id: string, tenant: string): Promise<ExecutionView | null> {
    const location = await this.store.locate(id);
    if (!location || location.tenant !== tenant) return null;
    return this.getIn(location.queue, id);
  }

  /** The execution of a known queue (no tenant check). */
  async getIn(queueName: string, id: string): Promise<ExecutionView | null> {
    const queue = this.queues.get(queueName);
    const [record, job, state] = await Promise.all([
      this.store.read(queueName, id),
      queue.getJob(id),
      queue.getJobState(id),
    ]);
    if (!record) return null;
    const facts = job
      ? { input: job.data.input, result: job.returnvalue, failedReason: job.failedReason ?? null, finishedOn: job.finishedOn ?? null }
      : record.removedJob
        ? { input: record.removedJob.data.input, result: null, failedReason: null, finishedOn: null }
        : null;
    return toExecutionView(record, deriveStatus(state, record), facts);
  }
}
