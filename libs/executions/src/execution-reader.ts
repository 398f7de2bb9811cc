import { inTenant, type ExecutionStatus, type ExecutionSummary, type ExecutionView, type TenantFilter, type WaitingFor } from '@conveyor/contracts';
import type { ExecutionRecord } from './execution-record.js';
import type { ExecutionQueue, ExecutionQueues } from './execution-queues.js';
import type { ExecutionStore } from './execution-store.js';
import { deriveStatus, heldFor, statusFields, toExecutionView } from './execution-view.js';

/** All that is known of one execution: Conveyor's record, the BullMQ job, and the status they give. */
export interface LoadedExecution {
  record: ExecutionRecord;
  queue: ExecutionQueue;
  job: Awaited<ReturnType<ExecutionQueue['getJob']>>;
  status: ExecutionStatus;
  waitingFor: WaitingFor | null;
}

/** Reads executions as clients see them: Conveyor's record combined with the BullMQ job (the record read first: see `ExecutionStore`'s constructor). */
export class ExecutionReader {
  constructor(
    private readonly store: ExecutionStore,
    private readonly queues: ExecutionQueues,
  ) {}

  /** The execution, or `null` when the id is unknown or belongs to another tenant. */
  async get(id: string, tenant: TenantFilter): Promise<ExecutionView | null> {
    const loaded = await this.load(id, tenant);
    return loaded && viewOf(loaded);
  }

  /** The execution of a known queue (no tenant check). */
  async getIn(queueName: string, id: string): Promise<ExecutionView | null> {
    const loaded = await this.loadIn(queueName, id);
    return loaded && viewOf(loaded);
  }

  /** The execution of a known queue as lists show it, without input and result: the job's data is never loaded. */
  async getSummaryIn(queueName: string, id: string): Promise<ExecutionSummary | null> {
    const [record, state, [failedReason, finishedOn]] = await Promise.all([
      this.store.read(queueName, id),
      this.queues.get(queueName).getJobState(id),
      this.queues.jobFields(queueName, id, ['failedReason', 'finishedOn']),
    ]);
    if (!record) return null;
    const facts = { input: null, result: null, failedReason, finishedOn: finishedOn === null ? null : Number(finishedOn) };
    const { input: _input, result: _result, ...summary } = toExecutionView(record, deriveStatus(state, record), facts, heldFor(state, record));
    return summary;
  }

  /** The execution's status alone (its job's data is not read), or `null` for an unknown id or another tenant's. */
  async statusOf(id: string, tenant: TenantFilter): Promise<ExecutionStatus | null> {
    const queue = await this.queueOf(id, tenant);
    if (!queue) return null;
    const [record, state] = await Promise.all([this.store.readFields(queue, id, statusFields), this.queues.get(queue).getJobState(id)]);
    return record && deriveStatus(state, record);
  }

  /** Record, job and status (one round trip after the index), or `null` for an unknown id or another tenant's. */
  async load(id: string, tenant: TenantFilter): Promise<LoadedExecution | null> {
    const queue = await this.queueOf(id, tenant);
    return queue === null ? null : this.loadIn(queue, id);
  }

  /** The queue of the execution, or `null` for an unknown id or another tenant's. */
  private async queueOf(id: string, tenant: TenantFilter): Promise<string | null> {
    const location = await this.store.locate(id);
    return location && inTenant(tenant, location.tenant) ? location.queue : null;
  }

  private async loadIn(queueName: string, id: string): Promise<LoadedExecution | null> {
    const queue = this.queues.get(queueName);
    const [record, firstRead, state] = await Promise.all([this.store.read(queueName, id), queue.getJob(id), queue.getJobState(id)]);
    // The job may have finished between the two reads: its outcome is then read again, to match the state.
    const finishedMeanwhile = (state === 'completed' || state === 'failed') && firstRead && !firstRead.finishedOn;
    const job = finishedMeanwhile ? await queue.getJob(id) : firstRead;
    return record && { record, queue, job, status: deriveStatus(state, record), waitingFor: heldFor(state, record) };
  }
}

function viewOf({ record, job, status, waitingFor }: LoadedExecution): ExecutionView {
  const facts = job
    ? { input: job.data.input, result: job.returnvalue, failedReason: job.failedReason ?? null, finishedOn: job.finishedOn ?? null }
    : record.removedJob
      ? { input: record.removedJob.data.input, result: null, failedReason: null, finishedOn: null }
      : null;
  return toExecutionView(record, status, facts, waitingFor);
}
