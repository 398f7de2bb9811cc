import { Job, Queue, SpanKind, TelemetryAttributes, type JobsOptions } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import { catalogQueues } from '@conveyor/contracts';
import { defineRecordScript, execOrThrow, type RedisKeys } from '@conveyor/redis';
import { tracing } from '@conveyor/tracing';
import type { ExecutionJobData } from './execution-record.js';

export type ExecutionQueue = Queue<ExecutionJobData, unknown, string>;

/** A job of an execution; its id is the execution's, given to BullMQ apart from `opts`, which would keep a copy. */
export interface NewJob {
  id: string;
  name: string;
  data: ExecutionJobData;
  opts: JobsOptions;
}

/**
 * One BullMQ `Queue` per catalogue queue, sharing one connection; with tracing on, each add joins the
 * active trace. A process gives them a connection of their own (and so do its other BullMQ queues), apart
 * from Conveyor's: ioredis copies every script defined on a connection into each of its pipelines and
 * transactions, and BullMQ defines some 60.
 */
export class ExecutionQueues {
  private readonly queues: ReadonlyMap<string, ExecutionQueue>;

  constructor(
    /** The connection BullMQ's queues share. */
    readonly connection: Redis,
    keys: RedisKeys,
  ) {
    // `addAfter` writes records in BullMQ's transaction.
    defineRecordScript(connection);
    this.queues = new Map(
      catalogQueues.map((name) => [
        name,
        new Queue<ExecutionJobData, unknown, string>(keys.bullQueueName(name), { connection, prefix: keys.prefix, telemetry: tracing().bullmq }),
      ]),
    );
  }

  get(name: string): ExecutionQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`No task uses queue "${name}"`);
    return queue;
  }

  /** Adds one job, traced as BullMQ's `add` is. */
  async add(name: string, job: NewJob): Promise<void> {
    const queue = this.get(name);
    await this.traced(queue, [job], async (jobs) => {
      await jobs[0].addJob(await queue.getBackend().client);
    });
  }

  /**
   * Adds jobs to the queue in one transaction (`MULTI`/`EXEC`), after the writes that `first` queues on
   * it (keys of the queue's hash tag only): all of it appears at once, or none of it when Redis refuses
   * the transaction. A command that fails inside it leaves the others applied (a transaction does not
   * roll back): its error is thrown, for the caller to undo.
   */
  async addAfter(name: string, jobs: NewJob[], first: (transaction: ChainableCommander) => void): Promise<void> {
    const queue = this.get(name);
    await this.traced(queue, jobs, async (traced) => {
      // BullMQ's transaction on an ioredis connection is ioredis's own, with BullMQ's script runner added.
      const transaction = (await queue.getBackend().client).multi();
      const commands = transaction as unknown as ChainableCommander;
      first(commands);
      // Each job's script is queued at once; the promises only say whether BullMQ could encode it.
      await Promise.all(traced.map((job) => job.addJob(transaction)));
      await execOrThrow(commands);
    });
  }

  /**
   * Runs `add` with the jobs as BullMQ `Job`s, traced as BullMQ's `add` and `addBulk` are, each job
   * carrying the trace context for its worker's span.
   */
  private async traced(queue: ExecutionQueue, jobs: NewJob[], add: (jobs: Job[]) => Promise<void>): Promise<void> {
    const [one] = jobs;
    const [operation, destination] = jobs.length === 1 ? ['add', `${queue.name}.${one.name}`] : ['addBulk', queue.name];
    await queue.trace(SpanKind.PRODUCER, operation, destination, async (span, metadata) => {
      span?.setAttributes(
        jobs.length === 1
          ? { [TelemetryAttributes.JobName]: one.name, [TelemetryAttributes.JobId]: one.id }
          : { [TelemetryAttributes.BulkNames]: jobs.map((job) => job.name), [TelemetryAttributes.BulkCount]: jobs.length },
      );
      await add(jobs.map(({ id, name, data, opts }) => new Job(queue, name, data, metadata ? { ...opts, telemetry: { metadata } } : opts, id)));
    });
  }

  /** Some fields of a job's hash, without loading its data (a list's summary needs no input). */
  jobFields(name: string, id: string, fields: string[]): Promise<(string | null)[]> {
    return this.connection.hmget(this.get(name).toKey(id), ...fields);
  }

  async hasJob(name: string, id: string): Promise<boolean> {
    return (await this.connection.exists(this.get(name).toKey(id))) === 1;
  }

  all(): ExecutionQueue[] {
    return [...this.queues.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }
}
