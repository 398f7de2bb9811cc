import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import { poll, Stack } from '@conveyor/testing';

describe('Redis outage', () => {
  let stack: Stack;
  let client: ConveyorClient;
  before(async () => {
    stack = await Stack.start();
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  it('answers 503 quickly while Redis is down, and works again once it is back', async () => {
    await stack.redis.single.kill();

    // The answers during the outage are the subject: raw.
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
    // Prometheus still scrapes the gateway, which says Redis is down (and leaves queue depth out).
    const metrics = await stack.api.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^conveyor_redis_up 0$/m);
    assert.doesNotMatch(metrics.body, /^conveyor_queue_executions\{/m);

    await stack.redis.single.restart();
    await poll(() => stack.api.get('/health/ready'), { until: (r) => r.status === 200, label: 'ready again' });
    const accepted = await poll(() => client.submit('demo.noop', { payload: 1 }).catch(() => null), {
      until: (execution) => execution !== null,
      label: 'a submission accepted',
    });
    const done = await poll(() => client.get(accepted!.id), { until: (e) => e.status === 'completed', label: 'the worker to run it', timeoutMs: 30_000 });
    assert.deepEqual(done.result, { payload: 1 });
  });
});
