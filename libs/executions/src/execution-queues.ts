import { Job, Queue, SpanKind, TelemetryAttributes, type JobsOptions } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import { catalogQueues } from '@conveyor/contracts';
import { defineJobAddScripts, execOrThrow, type JobAddCommand, type RedisKeys } from '@conveyor/redis';
import { tracing } from '@conveyor/tracing';
import type { ExecutionJobData } from './execution-record.js';
import type { RecordCreation } from './execution-store.js';

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
  /** By the name BullMQ calls its scripts that add a job, Conveyor's that run each with the job's record (see `addCreating`). */
  private readonly jobAdds: ReadonlyMap<string, JobAddCommand>;

  constructor(
    /** The connection BullMQ's queues share. */
    readonly connection: Redis,
    keys: RedisKeys,
  ) {
    this.jobAdds = defineJobAddScripts(connection);
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
   * Adds jobs with their executions' records: BullMQ's own script that adds a job runs after its
   * record's `creation`, in one script call (see `withRecord` of the Redis scripts). More than one go
   * in one transaction (`MULTI`/`EXEC`): all of them appear at once, or none when Redis refuses it. A
   * script that fails inside it leaves the others applied (a transaction does not roll back): its
   * error is thrown, for the caller to undo.
   */
  async addCreating(name: string, jobs: { job: NewJob; creation: RecordCreation }[]): Promise<void> {
    const queue = this.get(name);
    // The queue writes its meta (BullMQ's version, its events' cap) as it gets ready, before its first job.
    await queue.waitUntilReady();
    await this.traced(
      queue,
      jobs.map(({ job }) => job),
      async (traced) => {
        if (traced.length === 1) return void (await traced[0].addJob(this.creating(this.connection, jobs[0].creation)));
        const transaction = this.connection.multi();
        // Each job's script is queued at once; the promises only say whether BullMQ could encode it.
        await Promise.all(traced.map((job, i) => job.addJob(this.creating(transaction, jobs[i].creation))));
        await execOrThrow(transaction);
      },
    );
  }

  /** A client for BullMQ's add of a job, running its script by name with its keys then its arguments, on `commands`, after the record's `creation`. */
  private creating(commands: Redis | ChainableCommander, creation: RecordCreation): never {
    const runCommand = (command: string, bullmq: (string | number | Buffer)[]) => {
      const add = this.jobAdds.get(command);
      if (!add) throw new Error(`BullMQ added a job with ${command}, which Conveyor does not run with a record`);
      const [keys, args] = [bullmq.slice(0, add.keys), bullmq.slice(add.keys)];
      return commands[add.command](keys.length + creation.keys.length, ...keys, ...creation.keys, ...args, ...creation.args, args.length);
    };
    return { runCommand } as never;
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
