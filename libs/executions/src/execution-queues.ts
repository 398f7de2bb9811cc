import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { catalogQueues } from '@conveyor/contracts';
import type { RedisKeys } from '@conveyor/redis';
import { tracing } from '@conveyor/tracing';
import type { ExecutionJobData } from './execution-record.js';

export type ExecutionQueue = Queue<ExecutionJobData, unknown, string>;

/** One BullMQ `Queue` per catalogue queue, sharing one connection; with tracing on, each add joins the active trace. */
export class ExecutionQueues {
  private readonly queues: ReadonlyMap<string, ExecutionQueue>;

  constructor(
    private readonly connection: Redis,
    keys: RedisKeys,
  ) {
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
