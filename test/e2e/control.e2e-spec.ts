import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent } from '@conveyor/contracts';
import { ExecutionStore } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';
import { Stack, submitAndWatch } from '@conveyor/testing';

describe('cancel, retry and delete', () => {
  let stack: Stack;
  let client: ConveyorClient;

  before(async () => {
    // The first worker does not consume `demo`: every demo run is held by the second one.
    stack = await Stack.start({ workers: 0, env: { WORKER_CANCEL_GRACE_MS: '500' } });
    await stack.startWorker({ WORKER_QUEUES: 'http' });
    await stack.startWorker({ WORKER_QUEUES: 'demo' });
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  /** Raw, for the refusals: their status and body are what is tested. */
  const act = (id: string, action: 'cancel' | 'retry') => stack.api.post(`/v1/executions/${id}/${action}`);

  it('cancels a scheduled execution at once, keeping the reason', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0 }, { delayMs: 60_000 });
    const cancelled = await client.cancel(run.executionId, 'not needed');
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.cancelReason, 'not needed');
    assert.deepEqual(cancelled.input, { steps: 1, stepMs: 0 });
    const final = await run.done;
    const event = run.events.at(-1) as ConveyorEvent<'execution.cancelled'>;
    assert.equal(event.type, 'execution.cancelled');
    assert.deepEqual(event.data, { reason: 'not needed' });
    assert.equal(final.status, 'cancelled');
  });

  it('cancels an execution waiting between attempts', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0, failTimes: 5 }, { attempts: 3, backoff: { type: 'fixed', delayMs: 60_000 } });
    await run.waitFor('execution.retrying');
    assert.equal((await client.get(run.executionId)).status, 'scheduled');
    assert.equal((await client.cancel(run.executionId)).status, 'cancelled');
  });

  it('cancels a running execution on the worker that holds it: aborted, cancelled, never failed or retried', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 50, stepMs: 200 }, { attempts: 3 });
    await run.waitFor('execution.progress');
    const reply = await client.cancel(run.executionId, 'changed my mind');
    const answeredAt = Date.now();
    assert.ok(['running', 'cancelled'].includes(reply.status));
    const final = await run.done;
    const end = run.events.at(-1)!;
    assert.equal(end.type, 'execution.cancelled');
    assert.deepEqual(end.data, { reason: 'changed my mind' });
    assert.ok(Date.parse(end.ts) - answeredAt < 2000, 'within a second or so');
    assert.equal(run.events.some((e) => e.type === 'execution.failed' || e.type === 'execution.retrying'), false);
    assert.equal(final.status, 'cancelled');
    assert.equal(final.pendingAction, null);
    assert.equal(final.cancelReason, 'changed my mind');
  });

  it('writes off a handler that ignores the signal after the grace period', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 3, stepMs: 3000, ignoreSignal: true });
    await run.waitFor('execution.started');
    await client.cancel(run.executionId);
    const final = await run.done;
    assert.equal(run.events.at(-1)?.type, 'execution.cancelled');
    assert.equal(final.status, 'cancelled');
    assert.equal(final.progress, null, 'no progress recorded from the abandoned handler');
  });

  it('refuses to cancel an execution that already ended', async () => {
    const run = await submitAndWatch(client, 'demo.noop', {});
    await run.done;
    const reply = await act(run.executionId, 'cancel');
    assert.equal(reply.status, 409);
    assert.equal(reply.body.code, 'already_terminal');
  });

  it('retries a failed execution under the same id, attempts counted afresh, its event log continued', async () => {
    // demo.steps fails its first `failTimes` attempts: counted afresh, the retried run fails the same way.
    const run = await submitAndWatch(client, 'demo.steps', { steps: 2, stepMs: 0, failTimes: 1 }, { attempts: 1 });
    assert.equal((await run.done).status, 'failed');

    const retried = await client.retry(run.executionId);
    assert.equal(retried.id, run.executionId);
    // A worker may already hold it again: the reply shows it in its new first attempt at most.
    assert.ok(retried.attempts.made <= 1);
    const final = await client.watch(run.executionId).done;
    assert.equal(final.status, 'failed');
    assert.deepEqual(final.attempts, { made: 1, max: 1 });

    const timeline = (await client.events(run.executionId)).items;
    assert.deepEqual(timeline.map((e) => e.seq), timeline.map((_, i) => i + 1));
    assert.deepEqual(timeline.map((e) => e.type), [
      'execution.queued',
      'execution.started',
      'execution.failed',
      'execution.retried',
      'execution.started',
      'execution.failed',
    ]);
  });

  it('announces each retry once, however soon its run ends (BullMQ reports the retry after it)', async () => {
    // A listener that hears BullMQ's report of the retry late must not take the run's end for a retry from outside.
    for (let round = 0; round < 10; round++) {
      const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0, failTimes: 1 }, { attempts: 1 });
      await run.done;
      await client.retry(run.executionId);
      const final = await client.watch(run.executionId).done;
      assert.deepEqual([final.status, final.attempts.made], ['failed', 1], `round ${round}`);
      const types = (await client.events(run.executionId)).items.filter((e) => e.type !== 'execution.progress').map((e) => e.type);
      assert.deepEqual(types.slice(3), ['execution.retried', 'execution.started', 'execution.failed'], `round ${round}`);
    }
  });

  it('retries a cancelled queued execution from the job it kept', async () => {
    const execution = await client.submit('demo.noop', { payload: 'again' }, { delayMs: 60_000 });
    await client.cancel(execution.id);
    await client.retry(execution.id);
    const done = await client.watch(execution.id).done;
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.result, { payload: 'again' });
    const again = await act(execution.id, 'retry');
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'not_retryable');
  });

  it('deletes a terminal execution with all it kept, and refuses a running one', async () => {
    const running = await submitAndWatch(client, 'demo.steps', { steps: 20, stepMs: 100 });
    await running.waitFor('execution.started');
    // The answers (409, 204, then 404) are the subject: raw.
    const refused = await stack.api.delete(`/v1/executions/${running.executionId}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'not_terminal');
    await client.cancel(running.executionId);
    await running.done;

    assert.equal((await stack.api.delete(`/v1/executions/${running.executionId}`)).status, 204);
    for (const path of ['', '/events', '/logs']) {
      assert.equal((await stack.api.get(`/v1/executions/${running.executionId}${path}`)).status, 404, path);
    }
  });

  it('counts an execution removed twice at once (a delete beside a retention sweep) out of the totals once', async () => {
    const [first, second] = (await client.submitBatch([{ task: 'demo.noop', tags: ['twice'] }, { task: 'demo.noop', tags: ['twice'] }])).items;
    await Promise.all([client.watch(first.id).done, client.watch(second.id).done]);
    const before = (await client.list({ queue: ['demo'] })).totals.completed;
    // Both removers read the record before either removes it: the race the store must settle.
    const redis = stack.redis.connect();
    try {
      const store = new ExecutionStore(redis, new RedisKeys(stack.prefix));
      const record = await store.read('demo', first.id);
      assert.ok(record);
      assert.deepEqual(await Promise.all([store.forget(record), store.forget(record)]), [true, false]);
    } finally {
      redis.disconnect();
    }
    assert.equal((await client.list({ queue: ['demo'] })).totals.completed, before - 1);
    assert.deepEqual((await client.list({ tag: ['twice'] })).items.map((e) => e.id), [second.id]);
  });

  it('serves the timeline and the log lines', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 2, stepMs: 0 });
    await run.done;
    const logs = await client.logs(run.executionId);
    assert.deepEqual(logs.items.map((l) => [l.level, l.line]), [['info', 'attempt 1: starting (2 steps of 0 ms)']]);
    assert.match(logs.items[0].ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const page = await client.events(run.executionId, { since: 1, limit: 2 });
    assert.deepEqual(page.items.map((e) => e.seq), [2, 3]);
    // A bad limit (the answer is the subject): raw.
    const bad = await stack.api.get(`/v1/executions/${run.executionId}/events?limit=0`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, 'limit');
  });
});
