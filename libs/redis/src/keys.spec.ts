import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisKeys } from './keys.js';

describe('RedisKeys', () => {
  const keys = new RedisKeys('conveyor');
  const id = 'exec_01M862CJRHAMBFM3S2NG72JCRG';

  it('puts every key of a queue under its hash tag', () => {
    for (const key of [keys.execution('demo', id), keys.executionEvents('demo', id), keys.executionLogs('demo', id), keys.executionCheckpoint('demo', id), keys.eventsChannel('demo')]) {
      assert.ok(key.startsWith('conveyor:{demo}:'), key);
    }
    assert.equal(keys.executionEvents('demo', id), `conveyor:{demo}:execution:${id}:events`);
  });

  it('puts a tenant\'s concurrency keys under the tenant\'s own hash tag', () => {
    for (const key of [keys.tenantSlots('acme'), keys.tenantReservations('acme'), keys.tenantHeld('acme')]) {
      assert.ok(key.startsWith('conveyor:{tenant:acme}:'), key);
    }
  });

  it('maps queue names to BullMQ names and back', () => {
    assert.equal(keys.bullQueueName('demo'), '{demo}');
    assert.equal(keys.queueOfBullName('{demo}'), 'demo');
  });

  it("keeps a tenant's usage counters under the tenant's hash tag, apart from every queue's", () => {
    assert.equal(keys.tenantRecentSubmissions('acme'), 'conveyor:{tenant:acme}:recent-submissions');
    assert.equal(keys.tenantExecutionsOn('acme', '2026-11-30'), 'conveyor:{tenant:acme}:executions:2026-11-30');
  });
});
