import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExecutionView } from '@conveyor/contracts';
import { ExecutionWatcher, poll, Stack } from '@conveyor/testing';

describe('changes made outside Conveyor', () => {
  let stack: Stack;
  let watcher: ExecutionWatcher;

  before(async () => {
    stack = await Stack.start();
    // A paused queue keeps its executions queued (its workers still watch it).
    assert.equal((await stack.api.post('/v1/queues/http/pause')).status, 200);
    watcher = await ExecutionWatcher.connect(stack.monitorUrl);
  });
  after(async () => {
    watcher?.close();
    await stack?.stop();
  });

  const board = (queue: string, path: string) => fetch(`${stack.gatewayUrl}/admin/queues/api/queues/${encodeURIComponent(`{${queue}}`)}/${path}`, { method: 'PUT' });
  const read = async (id: string) => (await stack.api.get<ExecutionView>(`/v1/executions/${id}`)).body;

  it('shows a failed execution retried in Bull Board as queued again, with execution.retried', async () => {
    const { body } = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 1, stepMs: 0, failTimes: 1 }, attempts: 1 });
    await watcher.subscribe(body.id, 0);
    await watcher.waitForEnd(body.id);
    assert.equal((await board('demo', `${body.id}/retry`)).status, 204);

    await watcher.waitFor((e) => e.executionId === body.id && e.type === 'execution.retried', 'execution.retried');
    await watcher.waitFor((e) => e.executionId === body.id && e.type === 'execution.completed', 'completion');
    const done = await read(body.id);
    assert.equal(done.status, 'completed');
    assert.equal(done.error, null);
    assert.deepEqual(
      watcher.of(body.id).filter((e) => e.seq !== undefined && e.type !== 'execution.progress').map((e) => e.type),
      ['execution.queued', 'execution.started', 'execution.failed', 'execution.retried', 'execution.started', 'execution.completed'],
    );
  });

  it('ends a queued execution removed in Bull Board as cancelled, saying so', async () => {
    const { body } = await stack.api.post('/v1/executions', { task: 'http.request', input: { url: 'http://127.0.0.1:9/' } });
    await watcher.subscribe(body.id, 0);
    assert.equal((await board('http', `${body.id}/clean`)).status, 204);
    const end = await watcher.waitForEnd(body.id);
    assert.equal(end.type, 'execution.cancelled');
    assert.deepEqual(end.data, { reason: 'removed outside Conveyor' });
    const final = await read(body.id);
    assert.equal(final.status, 'cancelled');
    assert.equal(final.cancelReason, 'removed outside Conveyor');
  });

  it('counts a delayed execution as queued once its runAt has come', async () => {
    const { body } = await stack.api.post('/v1/executions', { task: 'http.request', input: { url: 'http://127.0.0.1:9/' }, delayMs: 300 });
    const list = () => stack.api.get(`/v1/executions?queue=http&status=queued`);
    await poll(list, { until: (r) => r.body.items.some((e: ExecutionView) => e.id === body.id), label: 'listed as queued' });
    assert.equal((await read(body.id)).status, 'queued');
  });
});
