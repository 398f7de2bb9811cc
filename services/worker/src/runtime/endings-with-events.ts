import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { activeStatuses, type EventDataMap, type ExecutionError } from '@conveyor/contracts';
import { ExecutionStore, type ExecutionRecord, type ExecutionRef } from '@conveyor/executions';
import { bullmqCommandName, defineFinishScript, executionEventKeyCount } from '@conveyor/redis';
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
 * Ends an execution's job and records its ending in one step: a worker's connection runs BullMQ's own
 * end of a job (its `moveToFinished` script) with the ending's event after it, in one script call. No
 * crash can fall between BullMQ's end of the job and Conveyor's record of it, and readers, lists and
 * totals agree with BullMQ at once.
 * BullMQ calls its scripts by name on the connection and defines only the names not taken, so the
 * name of its `moveToFinished` is taken first, by a function that hands the script the ending this
 * worker expects for the job (`expect`); ends it did not expect go through as BullMQ sent them.
 */
@Injectable()
export class EndingsWithEvents {
  /** By queue and job id, the ending to record, from its attempt's end until BullMQ ends the job. */
  private readonly expected = new Map<string, Expected>();
  /** By job, what its end recorded: the ending's type and seq (`null`: not written, the record being no longer active). */
  private readonly recorded = new WeakMap<ExecutionJob, Recorded>();

  constructor(private readonly store: ExecutionStore) {}

  /** Makes BullMQ's ends of jobs on `connection`, a worker's of `queue`, carry the endings expected. */
  install(connection: Redis, queue: string): void {
    const moveToFinished = defineFinishScript(connection);
    const keyCount = moveToFinished.keys;
    const finish = async (bullmqArgs: (ScriptArg | undefined)[]): Promise<unknown> => {
      // BullMQ leaves its last argument (the fields a failure updates) undefined when there are none.
      const args = bullmqArgs.map((arg) => arg ?? '');
      const [id, finishedOn, , , target] = args.slice(keyCount);
      const key = `${queue}/${String(id)}`;
      const expected = this.expected.get(key);
      // BullMQ completes the job of a completion and fails the others'.
      if (!expected || (expected.ending.type === 'execution.completed' ? 'completed' : 'failed') !== target) {
        this.expected.delete(key);
        return (await connection.conveyorFinish(keyCount, ...args))[0];
      }
      const { job, ref } = expected;
      const { type, data, fields, ts } = dated(expected.ending, Number(finishedOn));
      const event = this.store.appendCommand('update', ref, type, data, fields, activeStatuses, ts);
      // Kept until Redis answers: BullMQ sends an end again after a connection error.
      const [reply, seq] = await connection.conveyorFinish(
        keyCount + executionEventKeyCount,
        ...args.slice(0, keyCount),
        ...event.slice(0, executionEventKeyCount),
        ...args.slice(keyCount),
        ...event.slice(executionEventKeyCount),
        args.length - keyCount,
      );
      this.expected.delete(key);
      if (seq !== undefined) this.recorded.set(job, { type, seq: this.store.appended(ref, type, seq) });
      return reply;
    };
    Object.assign(connection, { [bullmqCommandName(moveToFinished)]: finish });
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
