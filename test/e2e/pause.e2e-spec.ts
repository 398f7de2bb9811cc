import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient, ExecutionWatch } from '@conveyor/client';
import type { ConveyorEvent } from '@conveyor/contracts';
import { poll, Stack, submitAndWatch } from '@conveyor/testing';

describe('pause and resume', () => {
  let stack: Stack;
  let client: ConveyorClient;

  before(async () => {
    stack = await Stack.start({ workers: 0 });
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  /** Raw, for the refusals: their status and body are what is tested. */
  const act = (id: string, action: 'pause' | 'resume') => stack.api.post(`/v1/executions/${id}/${action}`);
  const stepsOf = (watch: ExecutionWatch) =>
    watch.events.filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress').map((e) => Number(e.data.step));
  const started = (watch: ExecutionWatch) => watch.events.some((e) => e.type === 'execution.started');

  it('parks a running execution at its next checkpoint, frees the slot, and resumes it from there', async () => {
    await stack.startWorker({ WORKER_CONCURRENCY: '1', WORKER_QUEUES: 'demo' });
    const long = await submitAndWatch(client, 'demo.steps', { steps: 8, stepMs: 150 });
    await long.waitFor('execution.progress');

    const pausing = await client.pause(long.executionId);
    assert.equal(pausing.pendingAction, 'pause');
    await long.waitFor('execution.paused');
    const parked = await client.get(long.executionId);
    assert.equal(parked.status, 'paused');
    assert.equal(parked.pendingAction, null);

    // The only slot is free: another execution runs to the end meanwhile.
    const other = await submitAndWatch(client, 'demo.noop', { payload: 'meanwhile' });
    assert.equal((await other.done).status, 'completed');
    assert.equal((await client.get(long.executionId)).status, 'paused');

    const resumed = await client.resume(long.executionId);
    assert.ok(['queued', 'running'].includes(resumed.status));
    const final = await long.done;
    assert.equal(long.events.at(-1)?.type, 'execution.completed');

    const resumedEvent = long.events.find((e): e is ConveyorEvent<'execution.resumed'> => e.type === 'execution.resumed');
    assert.deepEqual(resumedEvent?.data, { fromCheckpoint: true });
    const steps = stepsOf(long);
    assert.equal(new Set(steps).size, steps.length, `each step once: ${steps.join(',')}`);
    assert.equal(steps.at(-1), 8);
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    assert.deepEqual(final.result, { steps: 8 });
  });

  it('holds back a queued execution until it is resumed', async () => {
    const held = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0 }, { delayMs: 400 });
    assert.equal((await client.pause(held.executionId)).status, 'paused');
    await poll(() => client.get(held.executionId), { until: (e) => e.runAt < new Date().toISOString(), label: 'its runAt to pass' });
    const marker = await submitAndWatch(client, 'demo.noop', {});
    await marker.done;
    assert.equal((await client.get(held.executionId)).status, 'paused', 'still held after its runAt');
    assert.equal(started(held), false);

    await client.resume(held.executionId);
    assert.equal((await held.done).status, 'completed');
  });

  it('cancels a paused execution without resuming it', async () => {
    const execution = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0 }, { delayMs: 60_000 });
    await client.pause(execution.executionId);
    assert.equal((await client.cancel(execution.executionId)).status, 'cancelled');
    await execution.done;
    assert.equal(started(execution), false);
  });

  it('refuses to pause what ended or is paused, and to resume what is not paused', async () => {
    const ended = await submitAndWatch(client, 'demo.noop', {});
    await ended.done;
    assert.equal((await act(ended.executionId, 'pause')).body.code, 'already_terminal');
    assert.equal((await act(ended.executionId, 'resume')).body.code, 'not_paused');

    const later = await client.submit('demo.noop', {}, { delayMs: 60_000 });
    await client.pause(later.id);
    const again = await act(later.id, 'pause');
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'already_paused');
    assert.equal((await client.resume(later.id)).status, 'scheduled', 'keeps its runAt');
  });
});
