import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExecutionView } from '@conveyor/contracts';
import { poll, Stack } from '@conveyor/testing';

describe('Redis outage', () => {
  let stack: Stack;
  before(async () => {
    stack = await Stack.start();
  });
  after(() => stack?.stop());

  it('answers 503 quickly while Redis is down, and works again once it is back', async () => {
    await stack.redis.kill();

    const started = Date.now();
    const ready = await stack.api.get('/health/ready');
    const submit = await stack.api.post('/v1/executions', { task: 'demo.noop' });
    const read = await stack.api.get('/v1/executions/exec_01M000000000000000000000ZZ');
    assert.ok(Date.now() - started < 5000, 'no hang');
    for (const reply of [ready, submit, read]) {
      assert.equal(reply.status, 503);
      assert.equal(reply.body.code, 'redis_unavailable');
    }
    assert.equal((await stack.api.get('/health')).status, 200, 'still alive');

    await stack.redis.restart();
    await poll(() => stack.api.get('/health/ready'), { until: (r) => r.status === 200, label: 'ready again' });
    const accepted = await poll(() => stack.api.post('/v1/executions', { task: 'demo.noop', input: { payload: 1 } }), {
      until: (r) => r.status === 202,
      label: 'a submission accepted',
    });
    const done = await poll(async () => (await stack.api.get<ExecutionView>(`/v1/executions/${accepted.body.id}`)).body, {
      until: (e) => e.status === 'completed',
      label: 'the worker to run it',
      timeoutMs: 30_000,
    });
    assert.deepEqual(done.result, { payload: 1 });
  });
});
