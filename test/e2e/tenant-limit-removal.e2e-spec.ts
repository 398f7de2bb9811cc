import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { terminalEventTypes } from '@conveyor/contracts';
import { createExecutionsCore, type ExecutionsCore } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';
import { slotMember } from '@conveyor/tenants';
import { ExecutionWatcher, isTenantHold, poll, stackPerSuite } from '@conveyor/testing';

describe('a tenant limit removed while an execution is being held', () => {
  // The worker waits 3 s between refusing an execution a slot and parking its job: long enough for
  // its reconciliation (every second) to see the tenant without a limit before the job is parked.
  const suite = stackPerSuite({ workers: 1, env: { WORKER_QUEUES: 'demo', CONVEYOR_TEST_HOLD_DELAY_MS: '3000' } });
  let redis: Redis;
  let core: ExecutionsCore;
  let watcher: ExecutionWatcher;

  before(async () => {
    redis = suite.stack.redis.connect();
    core = createExecutionsCore(redis, suite.stack.prefix);
    watcher = await ExecutionWatcher.connect(suite.stack.monitorUrl);
    assert.equal((await watcher.subscribeRoom({ tenant: 'default' })).ok, true);
  });
  after(async () => {
    watcher?.close();
    await core?.queues.close();
    redis?.disconnect();
  });

  const setMaxRunning = async (maxRunning: number | null) => {
    const reply = await suite.stack.api.put('/v1/tenants/default/limits', { maxRunning });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
  };

  it('runs the execution once its job is parked, though the limit went before it was', async () => {
    await setMaxRunning(1);
    const blocker = await suite.client.submit('demo.steps', { steps: 600, stepMs: 100 });
    await watcher.waitFor('execution.started', (e) => e.executionId === blocker.id);
    const refused = await suite.client.submit('demo.steps', { steps: 1, stepMs: 50 });
    const held = new RedisKeys(suite.stack.prefix).tenantHeld('default');
    await poll(() => redis.zscore(held, slotMember({ id: refused.id, queue: 'demo' })), { until: (score) => score !== null, label: 'the execution among the held' });
    assert.equal(await core.queues.get('demo').getJobState(refused.id), 'active', 'its job is not parked yet');

    await setMaxRunning(null);
    // Submitted at once: the worker's cached limit may still say 1, but the queue's set no longer does.
    const after = await Promise.all([1, 2, 3].map(() => suite.client.submit('demo.steps', { steps: 1, stepMs: 50 })));
    for (const { id } of [refused, ...after]) assert.equal((await watcher.waitForEnd(id)).type, 'execution.completed');
    assert.equal(watcher.of(refused.id).filter(isTenantHold).length, 1, 'held once, then run');
    for (const { id } of after) assert.ok(!watcher.of(id).some(isTenantHold), `${id} was not held`);
    assert.ok(!watcher.of(blocker.id).some((e) => terminalEventTypes.has(e.type)), 'the blocker still runs');
    assert.equal(await redis.zcard(held), 0, 'no execution left among the held');
    await suite.client.cancel(blocker.id);
    await watcher.waitForEnd(blocker.id);
  });
});
