// The floor under any design that keeps Conveyor's event guarantee: plain BullMQ plus the least that
// numbering, storing and publishing an execution's events costs. Each event is one small script: its
// number and status on a record, an append to the execution's log, a PUBLISH; no index, counter,
// tenant, webhook or anything else Conveyor keeps. A submit writes the record and its first event while
// the job is added; a run records its start before its handler and its end after it. What this costs
// beside plain BullMQ, in the same run, bounds what Conveyor can reach while every event is kept for
// replay (a design writing them inside BullMQ's own scripts would save the script calls and round
// trips, not the commands).
import { randomUUID } from 'node:crypto';
import { Worker, type Job, type Queue, type WorkerOptions } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';

const eventScript = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'status', ARGV[1])
local entry = seq .. ' ' .. ARGV[2]
redis.call('RPUSH', KEYS[2], entry)
redis.call('PUBLISH', ARGV[3], entry)
return seq`;

/** A connection or a pipeline of it, able to record an event. */
interface Recorder<Reply> {
  floorEvent(record: string, log: string, status: string, entry: string, channel: string): Reply;
}
type EventLogRedis = Redis & Recorder<Promise<number>>;

/** Plain BullMQ jobs and workers, with an event log of the least costly kind beside them. */
export class EventLogFloor {
  private readonly redis: EventLogRedis;

  /** Events go out on a connection of their own, beside BullMQ's. */
  constructor(connection: Redis) {
    this.redis = connection.duplicate() as EventLogRedis;
    this.redis.defineCommand('floorEvent', { numberOfKeys: 2, lua: eventScript });
  }

  /** Adds a job with its record and first event, at once; returns its id. */
  async add(queue: Queue, name: string, data: unknown): Promise<string> {
    const id = randomUUID();
    await Promise.all([queue.add(name, data, { jobId: id }), this.record(this.redis, queue.name, id, 'queued')]);
    return id;
  }

  /** Adds jobs (`addBulk`) with their records and first events (one pipeline), at once. */
  async addBulk(queue: Queue, jobs: { name: string; data: unknown }[]): Promise<void> {
    const ids = jobs.map(() => randomUUID());
    const events = this.redis.pipeline() as ChainableCommander & Recorder<unknown>;
    for (const id of ids) this.record(events, queue.name, id, 'queued');
    await Promise.all([queue.addBulk(jobs.map((job, i) => ({ ...job, opts: { jobId: ids[i] } }))), events.exec()]);
  }

  /** A plain BullMQ worker whose every run records its start and its end around `handler`. */
  worker(queue: string, handler: (job: Job) => Promise<unknown>, options: WorkerOptions): Worker {
    return new Worker(
      queue,
      async (job) => {
        await this.record(this.redis, queue, job.id!, 'running');
        const result = await handler(job);
        await this.record(this.redis, queue, job.id!, 'completed');
        return result;
      },
      options,
    );
  }

  close(): void {
    this.redis.disconnect();
  }

  /** One execution's event (as large as the contract's envelope, its seq put before it): numbered on its record, stored in its log, published. */
  private record<Reply>(to: Recorder<Reply>, queue: string, id: string, status: string): Reply {
    const type = `execution.${status}`;
    const entry = JSON.stringify({ v: 1, type, executionId: id, queue, task: 'demo.noop', tenant: 'default', ts: new Date().toISOString(), data: { status } });
    return to.floorEvent(`{${queue}}:record:${id}`, `{${queue}}:log:${id}`, status, entry, `{${queue}}:events`);
  }
}
