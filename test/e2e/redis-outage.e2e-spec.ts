import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import { RedisKeys } from '@conveyor/redis';
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

  it('answers 503 to a batch whose Redis goes down while its chunks are written, and lives on', async () => {
    const redis = stack.redis.connect();
    // BullMQ's own stream of the queue's job events: the first chunk's jobs show there once it is written.
    const jobEvents = `${stack.prefix}:${new RedisKeys(stack.prefix).bullQueueName('demo')}:events`;
    const before = await redis.xlen(jobEvents);
    const answer = stack.api.post('/v1/executions/batch', { executions: Array.from({ length: 1000 }, () => ({ task: 'demo.noop' })) });
    // Down once the first chunk is written, with the next in flight or still to be sent: each write
    // that fails then is the batch's failure, answered, not the process's end.
    await poll(() => redis.xlen(jobEvents), { until: (length) => length > before, label: 'the first chunk written', intervalMs: 1 });
    redis.disconnect();
    await stack.redis.single.kill();
    const reply = await answer;
    assert.deepEqual([reply.status, reply.body.code], [503, 'redis_unavailable']);
    assert.equal((await stack.api.get('/health')).status, 200, 'still alive');
    await stack.redis.single.restart();
    await poll(() => stack.api.get('/health/ready'), { until: (r) => r.status === 200, label: 'ready again' });
  });
});
