import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorEvent, ExecutionView } from '@conveyor/contracts';
import { ExecutionWatcher, poll, Stack } from '@conveyor/testing';

describe('cancel, retry and delete', () => {
  let stack: Stack;
  let watcher: ExecutionWatcher;

  before(async () => {
    // The first worker does not consume `demo`: every demo run is held by the second one.
    stack = await Stack.start({ workers: 0, env: { WORKER_CANCEL_GRACE_MS: '500' } });
    await stack.startWorker({ WORKER_QUEUES: 'http' });
    await stack.startWorker({ WORKER_QUEUES: 'demo' });
    watcher = await ExecutionWatcher.connect(stack.monitorUrl);
  });
  after(async () => {
    watcher?.close();
    await stack?.stop();
  });

  const submit = async (body: object) => watcher.follow(await stack.api.submit(body));
  const read = (id: string) => stack.api.execution(id);
  const cancel = (id: string, reason?: string) => stack.api.post(`/v1/executions/${id}/cancel`, reason ? { reason } : undefined);
  const typesOf = (id: string) => watcher.of(id).map((e) => e.type);

  it('cancels a scheduled execution at once, keeping the reason', async () => {
    const execution = await submit({ task: 'demo.steps', input: { steps: 1, stepMs: 0 }, delayMs: 60_000 });
    const reply = await cancel(execution.id, 'not needed');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.status, 'cancelled');
    assert.equal(reply.body.cancelReason, 'not needed');
    assert.deepEqual(reply.body.input, { steps: 1, stepMs: 0 });
    const event = (await watcher.waitForEnd(execution.id)) as ConveyorEvent<'execution.cancelled'>;
    assert.deepEqual(event.data, { reason: 'not needed' });
    assert.equal((await read(execution.id)).status, 'cancelled');
  });

  it('cancels an execution waiting between attempts', async () => {
    const execution = await submit({
      task: 'demo.steps',
      input: { steps: 1, stepMs: 0, failTimes: 5 },
      attempts: 3,
      backoff: { type: 'fixed', delayMs: 60_000 },
    });
    await watcher.waitFor((e) => e.executionId === execution.id && e.type === 'execution.retrying', 'the first retry');
    assert.equal((await read(execution.id)).status, 'scheduled');
    assert.equal((await cancel(execution.id)).body.status, 'cancelled');
  });

  it('cancels a running execution on the worker that holds it: aborted, cancelled, never failed or retried', async () => {
    const execution = await submit({ task: 'demo.steps', input: { steps: 50, stepMs: 200 }, attempts: 3 });
    await watcher.waitFor((e) => e.executionId === execution.id && e.type === 'execution.progress', 'the first step');
    const reply = await cancel(execution.id, 'changed my mind');
    assert.equal(reply.status, 200);
    assert.ok(['running', 'cancelled'].includes(reply.body.status));
    const end = await watcher.waitForEnd(execution.id);
    assert.equal(end.type, 'execution.cancelled');
    assert.deepEqual(end.data, { reason: 'changed my mind' });
    assert.ok(Date.parse(end.ts) - Date.parse(reply.headers.get('date') ?? end.ts) < 2000, 'within a second or so');
    assert.equal(typesOf(execution.id).some((t) => t === 'execution.failed' || t === 'execution.retrying'), false);
    const final = await read(execution.id);
    assert.equal(final.status, 'cancelled');
    assert.equal(final.pendingAction, null);
    assert.equal(final.cancelReason, 'changed my mind');
  });

  it('writes off a handler that ignores the signal after the grace period', async () => {
    const execution = await submit({ task: 'demo.steps', input: { steps: 3, stepMs: 3000, ignoreSignal: true } });
    await watcher.waitFor((e) => e.executionId === execution.id && e.type === 'execution.started', 'the start');
    await cancel(execution.id);
    const end = await watcher.waitForEnd(execution.id);
    assert.equal(end.type, 'execution.cancelled');
    const final = await read(execution.id);
    assert.equal(final.status, 'cancelled');
    assert.equal(final.progress, null, 'no progress recorded from the abandoned handler');
  });

  it('refuses to cancel an execution that already ended', async () => {
    const execution = await submit({ task: 'demo.noop' });
    await watcher.waitForEnd(execution.id);
    const reply = await cancel(execution.id);
    assert.equal(reply.status, 409);
    assert.equal(reply.body.code, 'already_terminal');
  });

  it('retries a failed execution under the same id, attempts counted afresh, its event log continued', async () => {
    // demo.steps fails its first `failTimes` attempts: counted afresh, the retried run fails the same way.
    const execution = await submit({ task: 'demo.steps', input: { steps: 2, stepMs: 0, failTimes: 1 }, attempts: 1 });
    await watcher.waitForEnd(execution.id);
    assert.equal((await read(execution.id)).status, 'failed');

    const reply = await stack.api.post<ExecutionView>(`/v1/executions/${execution.id}/retry`);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.id, execution.id);
    // A worker may already hold it again: the reply shows it in its new first attempt at most.
    assert.ok(reply.body.attempts.made <= 1);
    await watcher.waitFor((e) => e.executionId === execution.id && e.type === 'execution.failed' && e.seq! > 4, 'the second failure');
    const final = await read(execution.id);
    assert.equal(final.status, 'failed');
    assert.deepEqual(final.attempts, { made: 1, max: 1 });

    const timeline = (await stack.api.get(`/v1/executions/${execution.id}/events`)).body.items as ConveyorEvent[];
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

  it('retries a cancelled queued execution from the job it kept', async () => {
    const execution = await submit({ task: 'demo.noop', input: { payload: 'again' }, delayMs: 60_000 });
    await cancel(execution.id);
    const reply = await stack.api.post<ExecutionView>(`/v1/executions/${execution.id}/retry`);
    assert.equal(reply.status, 200);
    const done = await poll(() => read(execution.id), { until: (e) => e.status === 'completed', label: 'completion after retry' });
    assert.deepEqual(done.result, { payload: 'again' });
    const again = await stack.api.post(`/v1/executions/${execution.id}/retry`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'not_retryable');
  });

  it('deletes a terminal execution with all it kept, and refuses a running one', async () => {
    const running = await submit({ task: 'demo.steps', input: { steps: 20, stepMs: 100 } });
    await watcher.waitFor((e) => e.executionId === running.id && e.type === 'execution.started', 'the start');
    const refused = await stack.api.delete(`/v1/executions/${running.id}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'not_terminal');
    await cancel(running.id);
    await watcher.waitForEnd(running.id);

    assert.equal((await stack.api.delete(`/v1/executions/${running.id}`)).status, 204);
    for (const path of ['', '/events', '/logs']) {
      assert.equal((await stack.api.get(`/v1/executions/${running.id}${path}`)).status, 404, path);
    }
  });

  it('serves the timeline and the log lines', async () => {
    const execution = await submit({ task: 'demo.steps', input: { steps: 2, stepMs: 0 } });
    await watcher.waitForEnd(execution.id);
    const logs = await stack.api.get(`/v1/executions/${execution.id}/logs`);
    assert.equal(logs.status, 200);
    assert.deepEqual(logs.body.items.map((l: { level: string; line: string }) => [l.level, l.line]), [['info', 'attempt 1: starting (2 steps of 0 ms)']]);
    assert.match(logs.body.items[0].ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const page = await stack.api.get(`/v1/executions/${execution.id}/events?since=1&limit=2`);
    assert.deepEqual(page.body.items.map((e: ConveyorEvent) => e.seq), [2, 3]);
    const bad = await stack.api.get(`/v1/executions/${execution.id}/events?limit=0`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, 'limit');
  });
});
