// The baselines Conveyor is measured against: plain BullMQ, and the floor — plain BullMQ plus the
// least that numbering, storing and publishing an execution's events costs when they are written as
// Conveyor writes them, by scripts of their own beside BullMQ's. Each event is one small script: its
// number and status on a record, an append to the execution's log, a PUBLISH; no index, counter,
// tenant, webhook or anything else Conveyor keeps. A submit writes the record with its first event,
// then adds the job (a worker must never meet a job without its record); a batch writes the records,
// then the jobs, in one pipeline; a run records its start before its handler and its end after it.
// The fork is the same least event log written inside BullMQ's own scripts (a design owning a fork of
// them): its add, moveToActive and moveToFinished scripts, each run as it is and then followed, in the
// same call, by the event of the job it added, started or finished (keys built in the script from
// BullMQ's prefix: a single Redis only). It saves the event scripts' calls and round trips, not their
// commands. Each event also counts itself, so that a benchmark checks its events were all written.
import { randomUUID } from 'node:crypto';
import { Job, Worker, type Queue, type WorkerOptions } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import { bullmqCommandName, bullmqScript, execOrThrow } from '@conveyor/redis';

export type BaselineKind = 'plain' | 'floor' | 'fork';

/** What a benchmark does with a baseline: add jobs, one or many at a time, and process them. */
export interface Baseline {
  add(queue: Queue, name: string, data: unknown): Promise<string>;
  addBulk(queue: Queue, jobs: { name: string; data: unknown }[]): Promise<string[]>;
  worker(queue: string, handler: (job: Job) => Promise<unknown>, options: WorkerOptions): Worker;
  /** Throws unless `expected` events were written in `queue` (a floor that wrote none would measure plain BullMQ). */
  checkEvents(queue: Queue, expected: number): Promise<void>;
  close(): void;
}

/** The baseline of this kind; the floor writes a run's events on a connection of its own, beside BullMQ's. */
export function baseline(kind: BaselineKind, connection: Redis): Baseline {
  if (kind === 'plain') return plainBullmq;
  if (kind === 'floor') return new EventLogFloor(connection);
  withForkedScripts(connection);
  return {
    ...plainBullmq,
    worker: (queue, handler, options) => new Worker(queue, handler, { ...options, connection: withForkedScripts(options.connection as Redis) }),
    checkEvents: (queue, expected) => checkWritten(connection, queue.toKey('events-written'), expected),
  };
}

async function checkWritten(redis: Redis, counter: string, expected: number): Promise<void> {
  const written = Number(await redis.get(counter));
  if (written !== expected) throw new Error(`${counter}: ${written} events written, ${expected} expected`);
}

const plainBullmq: Baseline = {
  add: async (queue, name, data) => (await queue.add(name, data)).id!,
  addBulk: async (queue, jobs) => (await queue.addBulk(jobs)).map((job) => job.id!),
  worker: (queue, handler, options) => new Worker(queue, handler, options),
  checkEvents: async () => undefined,
  close: () => undefined,
};

/** The least event in Lua, for the fork: `prefix` is the queue's keys', `id` the job's. */
const forkEvent = `
local function floorEvent(prefix, id, status)
  local record = prefix .. 'record:' .. id
  local seq = redis.call('HINCRBY', record, 'seq', 1)
  redis.call('HSET', record, 'status', status)
  local entry = seq .. ' {"v":1,"type":"execution.' .. status .. '","executionId":"' .. id .. '","queue":"' .. prefix ..
    '","task":"demo.noop","tenant":"default","ts":"' .. redis.call('TIME')[1] .. '","data":{"status":"' .. status .. '"}}'
  redis.call('RPUSH', prefix .. 'log:' .. id, entry)
  redis.call('PUBLISH', prefix .. 'events', entry)
  redis.call('INCR', prefix .. 'events-written')
end
`;

/** BullMQ's scripts, each followed by the event of its job; a job's id is a string, a failure a number. */
const forkedScripts = [
  { script: bullmqScript('addStandardJob'), event: `if type(result) == 'string' then floorEvent(cmsgpack.unpack(ARGV[1])[1], result, 'queued') end` },
  { script: bullmqScript('moveToActive'), event: `if type(result[2]) == 'string' then floorEvent(ARGV[1], result[2], 'running') end` },
  {
    script: bullmqScript('moveToFinished'),
    event: `if result == 0 or type(result) == 'table' then
  floorEvent(ARGV[7], ARGV[1], ARGV[5])
  if type(result) == 'table' and type(result[2]) == 'string' then floorEvent(ARGV[7], result[2], 'running') end
end`,
  },
];

/** Defines the forked scripts on `connection` under BullMQ's own names, which BullMQ then leaves as they are. */
function withForkedScripts(connection: Redis): Redis {
  for (const { script, event } of forkedScripts) {
    const lua = `${forkEvent}\nlocal function bullmq()\n${script.content}\nend\nlocal result = bullmq()\n${event}\nreturn result`;
    connection.defineCommand(bullmqCommandName(script), { numberOfKeys: script.keys, lua });
  }
  return connection;
}

const eventScript = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'status', ARGV[1])
local entry = seq .. ' ' .. ARGV[2]
redis.call('RPUSH', KEYS[2], entry)
redis.call('PUBLISH', ARGV[3], entry)
redis.call('INCR', KEYS[3])
return seq`;

/** A connection or a pipeline of it, able to append an event. */
interface EventAppender<Reply> {
  floorEvent(record: string, log: string, written: string, status: string, entry: string, channel: string): Reply;
}

function withEventScript(connection: Redis): Redis & EventAppender<Promise<number>> {
  if (!('floorEvent' in connection)) connection.defineCommand('floorEvent', { numberOfKeys: 3, lua: eventScript });
  return connection as Redis & EventAppender<Promise<number>>;
}

class EventLogFloor implements Baseline {
  private readonly redis: Redis & EventAppender<Promise<number>>;

  constructor(connection: Redis) {
    this.redis = withEventScript(connection.duplicate());
  }

  async add(queue: Queue, name: string, data: unknown): Promise<string> {
    const id = randomUUID();
    await this.appendEvent(this.redis, queue.name, name, id, 'queued');
    await queue.add(name, data, { jobId: id });
    return id;
  }

  /** The records with their first events, then the jobs, in one pipeline (as BullMQ's `addBulk` sends its jobs). */
  async addBulk(queue: Queue, jobs: { name: string; data: unknown }[]): Promise<string[]> {
    const ids = jobs.map(() => randomUUID());
    const client = await queue.getBackend().client;
    withEventScript(client as unknown as Redis);
    const pipeline = client.pipeline();
    const commands = pipeline as unknown as ChainableCommander & EventAppender<unknown>;
    jobs.forEach(({ name }, i) => this.appendEvent(commands, queue.name, name, ids[i], 'queued'));
    await Promise.all(jobs.map(({ name, data }, i) => new Job(queue, name, data, { jobId: ids[i] }, ids[i]).addJob(pipeline)));
    await execOrThrow(commands);
    return ids;
  }

  worker(queue: string, handler: (job: Job) => Promise<unknown>, options: WorkerOptions): Worker {
    return new Worker(
      queue,
      async (job) => {
        await this.appendEvent(this.redis, queue, job.name, job.id!, 'running');
        const result = await handler(job);
        await this.appendEvent(this.redis, queue, job.name, job.id!, 'completed');
        return result;
      },
      options,
    );
  }

  checkEvents(queue: Queue, expected: number): Promise<void> {
    return checkWritten(this.redis, `{${queue.name}}:events-written`, expected);
  }

  close(): void {
    this.redis.disconnect();
  }

  /** One execution's event (as large as the contract's envelope, its seq put before it): numbered on its record, stored in its log, published. */
  private appendEvent<Reply>(to: EventAppender<Reply>, queue: string, task: string, id: string, status: string): Reply {
    const type = `execution.${status}`;
    const entry = JSON.stringify({ v: 1, type, executionId: id, queue, task, tenant: 'default', ts: new Date().toISOString(), data: { status } });
    return to.floorEvent(`{${queue}}:record:${id}`, `{${queue}}:log:${id}`, `{${queue}}:events-written`, status, entry, `{${queue}}:events`);
  }
}
