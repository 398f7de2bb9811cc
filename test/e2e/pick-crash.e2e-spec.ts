import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionStatus } from '@conveyor/contracts';
import { poll, stackPerSuite } from '@conveyor/testing';

describe('a worker dying as it picks an execution up', () => {
  const suite = stackPerSuite({ workers: 0 });

  const totals = async () => (await suite.client.list({ queue: ['demo'] })).totals;
  const listed = async (id: string, status: ExecutionStatus) => (await suite.client.list({ queue: ['demo'], status: [status] })).items.some((item) => item.id === id);
  /** Its state events (progress left out), with their seqs. */
  const states = async (id: string) => (await suite.client.events(id)).items.filter((e) => e.type !== 'execution.progress').map((e) => `${e.seq}:${e.type}`);

  /** The record, lists, totals and events say the execution started once, on its first attempt. */
  async function assertStarted(id: string, before: Awaited<ReturnType<typeof totals>>) {
    assert.ok(await listed(id, 'running'), `${id} listed running`);
    assert.equal(await listed(id, 'queued'), false);
    assert.equal((await totals()).running, before.running + 1);
    const events = (await suite.client.events(id)).items;
    assert.deepEqual(events.map((e) => `${e.seq}:${e.type}`), ['1:execution.queued', '2:execution.started']);
    assert.deepEqual(events[1].data, { attempt: 1 });
    const execution = await suite.client.get(id);
    assert.equal(execution.attempts.made, 1);
    assert.equal(Date.parse(events[1].ts), Date.parse(execution.startedAt!), 'dated as BullMQ picked the job');
  }

  /** Another worker takes the execution over once its lock lapses, and ends it. */
  async function assertRecovered(id: string) {
    const rescuer = await suite.stack.startWorker();
    try {
      await poll(() => listed(id, 'completed'), { until: Boolean, timeoutMs: 60_000, label: `${id} completed` });
      assert.deepEqual((await states(id)).slice(0, 3), ['1:execution.queued', '2:execution.started', '3:execution.recovered']);
      assert.equal((await states(id)).at(-1)?.endsWith(':execution.completed'), true);
    } finally {
      // The next case's executions must go to its own worker.
      await rescuer.process.stop();
    }
  }

  it('records the start in the same step as BullMQ picks the job (moveToActive)', async () => {
    const before = await totals();
    const doomed = await suite.stack.startWorker({ CONVEYOR_TEST_CRASH_AFTER: 'pick:1' });
    const { id } = await suite.client.submit('demo.steps', { steps: 1, stepMs: 0 }, { attempts: 1 });
    await poll(async () => doomed.process.running, { until: (running) => !running, timeoutMs: 30_000, label: 'the worker dying at the crash point' });
    await assertStarted(id, before);
    await assertRecovered(id);
  });

  it('records the start of the job a finished job’s end picks (moveToFinished)', async () => {
    const doomed = await suite.stack.startWorker({ CONVEYOR_TEST_CRASH_AFTER: 'pick:2', WORKER_CONCURRENCY: '1' });
    const first = await suite.client.submit('demo.steps', { steps: 1, stepMs: 2_000 }, { attempts: 1 });
    await poll(() => listed(first.id, 'running'), { until: Boolean, timeoutMs: 30_000, label: `${first.id} running` });
    const before = await totals();
    // Waiting as the first one ends: its end picks it.
    const { id } = await suite.client.submit('demo.steps', { steps: 1, stepMs: 0 }, { attempts: 1 });
    await poll(async () => doomed.process.running, { until: (running) => !running, timeoutMs: 30_000, label: 'the worker dying at the crash point' });
    assert.ok(await listed(first.id, 'completed'), 'the first one recorded completed, in the same step');
    await assertStarted(id, { ...before, running: before.running - 1 });
    await assertRecovered(id);
  });
});

describe('requests made as a worker picks an execution up', () => {
  const suite = stackPerSuite({ workers: 0 });

  it('cancels an execution whose cancel came after its start was recorded, before its handler ran', async () => {
    // The start is recorded as BullMQ picks the job; the handler runs a moment later.
    await suite.stack.startWorker({ CONVEYOR_TEST_PICK_DELAY_MS: '1500' });
    // One long step: its handler reaches no checkpoint, where it would see the request too.
    const { id } = await suite.client.submit('demo.steps', { steps: 1, stepMs: 600_000 }, { attempts: 1 });
    const listed = async (status: ExecutionStatus) => (await suite.client.list({ queue: ['demo'], status: [status] })).items.some((item) => item.id === id);
    await poll(() => listed('running'), { until: Boolean, timeoutMs: 30_000, label: `${id} running` });
    await suite.client.cancel(id, 'before it ran');
    await poll(() => listed('cancelled'), { until: Boolean, timeoutMs: 30_000, label: `${id} cancelled` });
    assert.equal((await suite.client.get(id)).cancelReason, 'before it ran');
  });
});
