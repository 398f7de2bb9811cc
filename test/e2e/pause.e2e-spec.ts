import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorEvent } from '@conveyor/contracts';
import { ExecutionWatcher, poll, Stack } from '@conveyor/testing';

describe('pause and resume', () => {
  let stack: Stack;
  let watcher: ExecutionWatcher;

  before(async () => {
    stack = await Stack.start({ workers: 0 });
    watcher = await ExecutionWatcher.connect(stack.monitorUrl);
  });
  after(async () => {
    watcher?.close();
    await stack?.stop();
  });

  const submit = async (body: object) => watcher.follow(await stack.api.submit(body));
  const read = (id: string) => stack.api.execution(id);
  const act = (id: string, action: string) => stack.api.post(`/v1/executions/${id}/${action}`);
  const stepsOf = (id: string) =>
    watcher.of(id).filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress').map((e) => Number(e.data.step));

  it('parks a running execution at its next checkpoint, frees the slot, and resumes it from there', async () => {
    await stack.startWorker({ WORKER_CONCURRENCY: '1', WORKER_QUEUES: 'demo' });
    const long = await submit({ task: 'demo.steps', input: { steps: 8, stepMs: 150 } });
    await watcher.waitFor((e) => e.executionId === long.id && e.type === 'execution.progress', 'a first step');

    const paused = await act(long.id, 'pause');
    assert.equal(paused.status, 200);
    assert.equal(paused.body.pendingAction, 'pause');
    await watcher.waitFor((e) => e.executionId === long.id && e.type === 'execution.paused', 'the pause');
    const parked = await read(long.id);
    assert.equal(parked.status, 'paused');
    assert.equal(parked.pendingAction, null);

    // The only slot is free: another execution runs to the end meanwhile.
    const other = await submit({ task: 'demo.noop', input: { payload: 'meanwhile' } });
    assert.equal((await watcher.waitForEnd(other.id)).type, 'execution.completed');
    assert.equal((await read(long.id)).status, 'paused');

    const resumed = await act(long.id, 'resume');
    assert.equal(resumed.status, 200);
    assert.ok(['queued', 'running'].includes(resumed.body.status));
    const end = await watcher.waitForEnd(long.id);
    assert.equal(end.type, 'execution.completed');

    const resumedEvent = watcher.of(long.id).find((e) => e.type === 'execution.resumed') as ConveyorEvent<'execution.resumed'>;
    assert.deepEqual(resumedEvent.data, { fromCheckpoint: true });
    const steps = stepsOf(long.id);
    assert.equal(new Set(steps).size, steps.length, `each step once: ${steps.join(',')}`);
    assert.equal(steps.at(-1), 8);
    const final = await read(long.id);
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    assert.deepEqual(final.result, { steps: 8 });
  });

  it('holds back a queued execution until it is resumed', async () => {
    const held = await submit({ task: 'demo.steps', input: { steps: 1, stepMs: 0 }, delayMs: 400 });
    const reply = await act(held.id, 'pause');
    assert.equal(reply.body.status, 'paused');
    await poll(() => read(held.id), { until: (e) => e.runAt < new Date().toISOString(), label: 'its runAt to pass' });
    const marker = await submit({ task: 'demo.noop' });
    await watcher.waitForEnd(marker.id);
    assert.equal((await read(held.id)).status, 'paused', 'still held after its runAt');
    assert.equal(watcher.of(held.id).some((e) => e.type === 'execution.started'), false);

    assert.equal((await act(held.id, 'resume')).status, 200);
    assert.equal((await watcher.waitForEnd(held.id)).type, 'execution.completed');
  });

  it('cancels a paused execution without resuming it', async () => {
    const execution = await submit({ task: 'demo.steps', input: { steps: 1, stepMs: 0 }, delayMs: 60_000 });
    await act(execution.id, 'pause');
    const cancelled = await act(execution.id, 'cancel');
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal(watcher.of(execution.id).some((e) => e.type === 'execution.started'), false);
  });

  it('refuses to pause what ended or is paused, and to resume what is not paused', async () => {
    const done = await submit({ task: 'demo.noop' });
    await watcher.waitForEnd(done.id);
    assert.equal((await act(done.id, 'pause')).body.code, 'already_terminal');
    assert.equal((await act(done.id, 'resume')).body.code, 'not_paused');

    const later = await submit({ task: 'demo.noop', delayMs: 60_000 });
    await act(later.id, 'pause');
    const again = await act(later.id, 'pause');
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'already_paused');
    const resumed = await act(later.id, 'resume');
    assert.equal(resumed.body.status, 'scheduled', 'keeps its runAt');
  });
});
