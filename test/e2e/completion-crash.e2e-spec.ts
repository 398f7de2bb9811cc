import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionStatus } from '@conveyor/contracts';
import { poll, stackPerSuite } from '@conveyor/testing';

describe('a worker dying as its execution ends', () => {
  const suite = stackPerSuite({ workers: 0 });

  const totals = async () => (await suite.client.list({ queue: ['demo'] })).totals;
  const listed = async (id: string, status: ExecutionStatus) => (await suite.client.list({ queue: ['demo'], status: [status] })).items.some((item) => item.id === id);

  /**
   * Runs one execution on a worker that dies right after BullMQ ends its job, before Conveyor records
   * it; then another worker, started afterwards, brings the record, lists, totals and events in line.
   */
  async function dieAtEnd(crashAfter: 'complete' | 'fail', failTimes: number, ending: 'completed' | 'failed') {
    const before = await totals();
    const doomed = await suite.stack.startWorker({ CONVEYOR_TEST_CRASH_AFTER: crashAfter });
    const { id } = await suite.client.submit('demo.steps', { steps: 1, stepMs: 0, failTimes }, { attempts: 1 });
    await poll(async () => doomed.process.running, { until: (running) => !running, timeoutMs: 30_000, label: 'the worker dying at the crash point' });
    assert.equal((await suite.client.get(id)).status, ending, 'read from BullMQ at once');
    assert.ok(await listed(id, 'running'), 'Conveyor did not record the ending before the crash');

    const rescuer = await suite.stack.startWorker();
    try {
      await poll(() => listed(id, ending), { until: Boolean, timeoutMs: 30_000, label: `${id} listed ${ending}` });
      assert.equal(await listed(id, 'running'), false);
      assert.deepEqual(await totals(), { ...before, [ending]: before[ending] + 1 });
      const events = (await suite.client.events(id)).items;
      assert.equal(events.filter((e) => e.type === `execution.${ending}`).length, 1);
      assert.equal(events.at(-1)?.type, `execution.${ending}`);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
      return { execution: await suite.client.get(id), end: events.at(-1)! };
    } finally {
      // The next case's execution must go to its own dying worker.
      await rescuer.process.stop();
    }
  }

  it('records a completion its worker did not', async () => {
    const { execution, end } = await dieAtEnd('complete', 0, 'completed');
    assert.deepEqual(execution.result, { steps: 1 });
    assert.deepEqual(end.data, { result: { steps: 1 } });
  });

  it('records a failure its worker did not, with the error the handler threw', async () => {
    const { execution } = await dieAtEnd('fail', 1, 'failed');
    assert.match(execution.error?.message ?? '', /^Failing attempt 1 at step 1/);
  });
});
