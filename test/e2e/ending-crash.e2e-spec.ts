import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Job, Queue } from 'bullmq';
import type { ExecutionStatus } from '@conveyor/contracts';
import { RedisKeys } from '@conveyor/redis';
import { poll, stackPerSuite } from '@conveyor/testing';

describe('a worker dying as its execution ends', () => {
  const suite = stackPerSuite({ workers: 0 });

  type Ending = 'completed' | 'failed' | 'cancelled';
  const totals = async () => (await suite.client.list({ queue: ['demo'] })).totals;
  const listed = async (id: string, status: ExecutionStatus) => (await suite.client.list({ queue: ['demo'], status: [status] })).items.some((item) => item.id === id);

  /** The record, lists, totals and events say the execution ended once, as `ending`. */
  async function assertRecorded(id: string, ending: Ending, before: Awaited<ReturnType<typeof totals>>) {
    assert.ok(await listed(id, ending), `${id} listed ${ending}`);
    assert.equal(await listed(id, 'running'), false);
    assert.deepEqual(await totals(), { ...before, [ending]: before[ending] + 1 });
    const events = (await suite.client.events(id)).items;
    assert.equal(events.filter((e) => e.type === `execution.${ending}`).length, 1);
    assert.equal(events.at(-1)?.type, `execution.${ending}`);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    const execution = await suite.client.get(id);
    assert.equal(Date.parse(events.at(-1)!.ts), Date.parse(execution.finishedAt!), 'dated as BullMQ ended the job');
    return { execution, end: events.at(-1)! };
  }

  /**
   * Runs one execution on a worker that dies as BullMQ reports the end of its job. No worker runs
   * afterwards: all that is read was written with BullMQ's end of the job.
   */
  async function dieAtEnd(crashAfter: 'complete' | 'fail', failTimes: number, ending: Ending) {
    const before = await totals();
    const doomed = await suite.stack.startWorker({ CONVEYOR_TEST_CRASH_AFTER: crashAfter });
    const { id } = await suite.client.submit('demo.steps', { steps: 1, stepMs: 0, failTimes }, { attempts: 1 });
    await poll(async () => doomed.process.running, { until: (running) => !running, timeoutMs: 30_000, label: 'the worker dying at the crash point' });
    return assertRecorded(id, ending, before);
  }

  it('records a completion in the same step as BullMQ ends its job, leaving nothing to repair', async () => {
    const { execution, end } = await dieAtEnd('complete', 0, 'completed');
    assert.deepEqual(execution.result, { steps: 1 });
    assert.deepEqual(end.data, { result: { steps: 1 } });
  });

  it('records a final failure in the same step, with the error the handler threw', async () => {
    const { execution, end } = await dieAtEnd('fail', 1, 'failed');
    assert.match(execution.error?.message ?? '', /^Failing attempt 1 at step 1/);
    assert.deepEqual(end.data, { error: execution.error, attempt: 1, willRetry: false });
  });

  it('records a cancellation in the same step, with its reason', async () => {
    const before = await totals();
    const doomed = await suite.stack.startWorker({ CONVEYOR_TEST_CRASH_AFTER: 'fail' });
    const { id } = await suite.client.submit('demo.steps', { steps: 1, stepMs: 600_000 }, { attempts: 1 });
    await poll(() => listed(id, 'running'), { until: Boolean, timeoutMs: 30_000, label: `${id} running` });
    await suite.client.cancel(id, 'changed my mind');
    await poll(async () => doomed.process.running, { until: (running) => !running, timeoutMs: 30_000, label: 'the worker dying at the crash point' });
    const { execution, end } = await assertRecorded(id, 'cancelled', before);
    assert.equal(execution.cancelReason, 'changed my mind');
    assert.deepEqual(end.data, { reason: 'changed my mind' });
  });

  /**
   * A running execution whose worker (of an earlier version, which recorded an ending after BullMQ
   * stored it) was killed right after BullMQ ended its job: `end` makes BullMQ's end alone, as that
   * worker did (token "0": without its lock). Another worker, started afterwards, brings the record,
   * lists, totals and events in line.
   */
  async function repairEnd(ending: 'completed' | 'failed', end: (job: Job) => Promise<unknown>) {
    const before = await totals();
    const doomed = await suite.stack.startWorker();
    const { id } = await suite.client.submit('demo.steps', { steps: 1, stepMs: 600_000 }, { attempts: 1 });
    await poll(() => listed(id, 'running'), { until: Boolean, timeoutMs: 30_000, label: `${id} running` });
    await doomed.process.stop('SIGKILL');
    const connection = suite.stack.redis.connect();
    const demo = new Queue(new RedisKeys(suite.stack.prefix).bullQueueName('demo'), { connection, prefix: suite.stack.prefix });
    try {
      await end((await Job.fromId(demo, id))!);
    } finally {
      await demo.close();
      connection.disconnect();
    }
    assert.equal((await suite.client.get(id)).status, ending, 'read from BullMQ at once');
    assert.ok(await listed(id, 'running'), 'not recorded before a worker runs');
    const rescuer = await suite.stack.startWorker();
    try {
      await poll(() => listed(id, ending), { until: Boolean, timeoutMs: 30_000, label: `${id} listed ${ending}` });
      return await assertRecorded(id, ending, before);
    } finally {
      // The next case's execution must go to its own worker.
      await rescuer.process.stop();
    }
  }

  it('records a completion that BullMQ stored without it', async () => {
    const { execution, end } = await repairEnd('completed', (job) => job.moveToCompleted({ steps: 1 }, '0', false));
    assert.deepEqual(execution.result, { steps: 1 });
    assert.deepEqual(end.data, { result: { steps: 1 } });
  });

  it('records a failure that BullMQ stored without it, with its reason', async () => {
    const { execution } = await repairEnd('failed', (job) => job.moveToFailed(new Error('lost with its worker'), '0', false));
    assert.equal(execution.error?.message, 'lost with its worker');
  });
});
