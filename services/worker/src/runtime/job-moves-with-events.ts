import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { taskCatalog, type EventDataMap, type ExecutionError } from '@conveyor/contracts';
import { ExecutionStore, storedFormatVersion, type ExecutionRecord, type ExecutionRef } from '@conveyor/executions';
import { bullmqCommandName, defineJobMoveScripts, RedisKeys, type JobMoveReply, type StartReply } from '@conveyor/redis';
import type { ExecutionJob } from './task-runner.js';

type EndingType = 'execution.completed' | 'execution.failed' | 'execution.cancelled';
/** An execution's last event, with what it writes on the record (besides when it ended: see `dated`). */
export type Ending = { [T in EndingType]: { type: T; data: EventDataMap[T]; fields: Partial<ExecutionRecord> } }[EndingType];

/** The endings of an execution. */
export const endingOf = {
  /** A handler that returns nothing completes with `null`, as its replay reads it (see `decodeStored`). */
  completed: (result: unknown): Ending => ({ type: 'execution.completed', data: { result: result ?? null }, fields: { status: 'completed' } }),
  failed: (error: ExecutionError, attempt: number): Ending => ({
    type: 'execution.failed',
    data: { error, attempt, willRetry: false },
    fields: { status: 'failed', error },
  }),
  cancelled: (reason: string | null): Ending => ({ type: 'execution.cancelled', data: { reason }, fields: { status: 'cancelled', pendingAction: null } }),
};

/** The ending as written: the record's `finishedAt` and the event's `ts` are when its job ended. */
export function dated(ending: Ending, finishedAt: number): Ending & { ts: string } {
  return { ...ending, fields: { ...ending.fields, finishedAt }, ts: new Date(finishedAt).toISOString() };
}

type ScriptArg = string | number | Buffer;

interface Recorded {
  type: EndingType;
  /** `null`: not written, the record being no longer active. */
  seq: number | null;
}

interface Expected {
  job: ExecutionJob;
  ref: ExecutionRef;
  ending: Ending;
}

/**
 * Moves an execution's job and records what the move means for the execution in one step: a
 * worker's connection runs BullMQ's own scripts that pick a job (`moveToActive`) and end one
 * (`moveToFinished`, which may pick the next) with the executions' events after them, in one script
 * call each. The start of the execution a job picked is recorded as it is picked, and the ending
 * this worker expects (`expect`) as its job ends: no crash can fall between BullMQ's move and
 * Conveyor's record of it, readers, lists and totals agree with BullMQ at once, and neither costs a
 * round trip of its own.
 * BullMQ calls its scripts by name on the connection and defines only the names not taken, so their
 * names are taken first, by functions that hand the scripts what they record.
 */
@Injectable()
export class JobMovesWithEvents {
  /** By queue and job id, the ending to record, from its attempt's end until BullMQ ends the job. */
  private readonly expected = new Map<string, Expected>();
  /** By job, what its end recorded: the ending's type and seq (`null`: not written, the record being no longer active). */
  private readonly recorded = new WeakMap<ExecutionJob, Recorded>();
  /** By queue and job id, the start recorded as the job was picked, until its attempt begins. */
  private readonly starts = new Map<string, StartReply>();

  constructor(
    private readonly store: ExecutionStore,
    private readonly keys: RedisKeys,
  ) {}

  /** Makes BullMQ's moves of jobs on `connection`, a worker's of `queue`, record their executions' starts and expected endings. */
  install(connection: Redis, queue: string): void {
    const { moveToActive, moveToFinished } = defineJobMoveScripts(connection, { jobFormat: storedFormatVersion });
    // The tasks it runs: a job of another is refused, and its start is not recorded.
    const tasks = `,${taskCatalog.filter((task) => task.queue === queue).map((task) => task.name).join(',')},`;
    // After BullMQ's arguments: where the picked job's execution lives, and when it is picked.
    const startArgs = (args: ScriptArg[], keyCount: number) => [this.keys.prefix, queue, tasks, new Date(Number(args[keyCount + 1])).toISOString(), args.length - keyCount];
    const picked = ([reply, seq, start]: JobMoveReply): [unknown, number | null] => {
      const [, id] = Array.isArray(reply) ? reply : [];
      if (typeof id !== 'string') return [reply, seq];
      // A job picked again whose start was not recorded this time must not take an earlier pick's.
      if (start) this.starts.set(`${queue}/${id}`, start);
      else this.starts.delete(`${queue}/${id}`);
      return [reply, seq];
    };
    const fetch = async (bullmqArgs: ScriptArg[]): Promise<unknown> => {
      const keyCount = moveToActive.keys;
      return picked(await connection.conveyorFetch(keyCount, ...bullmqArgs, ...startArgs(bullmqArgs, keyCount)))[0];
    };
    const finish = async (bullmqArgs: (ScriptArg | undefined)[]): Promise<unknown> => {
      const keyCount = moveToFinished.keys;
      // BullMQ leaves its last argument (the fields a failure updates) undefined when there are none.
      const args = bullmqArgs.map((arg) => arg ?? '');
      const [id, finishedOn, , , target] = args.slice(keyCount);
      const key = `${queue}/${String(id)}`;
      const expected = this.expected.get(key);
      // BullMQ completes the job of a completion and fails the others'.
      if (!expected || (expected.ending.type === 'execution.completed' ? 'completed' : 'failed') !== target) {
        this.expected.delete(key);
        return picked(await connection.conveyorFinish(keyCount, ...args, ...startArgs(args, keyCount)))[0];
      }
      const { job, ref } = expected;
      const { type, data, fields, ts } = dated(expected.ending, Number(finishedOn));
      const ending = this.store.endingArgs(ref, type, data, fields, ts);
      // Kept until Redis answers: BullMQ sends an end again after a connection error.
      const [reply, seq] = picked(await connection.conveyorFinish(keyCount, ...args, ...ending, ...startArgs(args, keyCount)));
      this.expected.delete(key);
      if (seq !== null) this.recorded.set(job, { type, seq: this.store.appended(ref, type, seq) });
      return reply;
    };
    Object.assign(connection, { [bullmqCommandName(moveToActive)]: fetch, [bullmqCommandName(moveToFinished)]: finish });
  }

  /** The start recorded as `job` was picked (taken: an attempt begins once), `undefined` when none was. */
  startOf(queue: string, job: ExecutionJob): StartReply | undefined {
    const key = `${queue}/${job.id}`;
    const start = this.starts.get(key);
    this.starts.delete(key);
    return start;
  }

  /** The attempt of `job` is over: BullMQ's end of the job is to record `ending`. */
  expect(job: ExecutionJob, ref: ExecutionRef, ending: Ending): void {
    this.expected.set(`${ref.queue}/${job.id}`, { job, ref, ending });
  }

  /** Once BullMQ has ended `job`: the ending its end recorded, `undefined` when it carried none. */
  recordedBy(queue: string, job: ExecutionJob): Recorded | undefined {
    this.expected.delete(`${queue}/${job.id}`);
    return this.recorded.get(job);
  }
}
