import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register } from 'prom-client';
import { countSubmitted, exportQueueDepth, metricsOn, metricsText, startMetrics, watchRedis } from './metrics.js';

const valueOf = async (name: string) => (await register.getSingleMetric(name)!.get()).values;

// One process: metrics start off, and are turned on by the second test.
describe('metrics', () => {
  it('counts nothing until started', async () => {
    assert.equal(metricsOn(), false);
    countSubmitted({ queue: 'demo', task: 'demo.noop' });
    assert.deepEqual(await valueOf('conveyor_executions_submitted_total'), []);
  });

  it('counts by queue and task once started', async () => {
    startMetrics(true);
    countSubmitted({ queue: 'demo', task: 'demo.noop' });
    assert.deepEqual(
      (await valueOf('conveyor_executions_submitted_total')).map(({ labels, value }) => ({ labels, value })),
      [{ labels: { queue: 'demo', task: 'demo.noop' }, value: 1 }],
    );
  });

  it('reports Redis down, and no round trip, when a PING does not answer within a second', async () => {
    watchRedis({ ping: () => new Promise(() => undefined) });
    const text = (await metricsText()).body;
    assert.match(text, /^conveyor_redis_up 0$/m);
    assert.match(text, /^conveyor_redis_ping_seconds nan$/im);
  });

  it('reports Redis up and its round trip when a PING answers', async () => {
    watchRedis({ ping: async () => 'PONG' });
    const text = (await metricsText()).body;
    assert.match(text, /^conveyor_redis_up 1$/m);
    assert.match(text, /^conveyor_redis_ping_seconds \d/m);
  });

  it('leaves queue depth out, rather than failing the scrape, when the counters cannot be read', async () => {
    exportQueueDepth(['demo'], async () => {
      throw new Error('Connection is closed.');
    });
    const text = (await metricsText()).body;
    assert.doesNotMatch(text, /^conveyor_queue_executions\{/m);
    exportQueueDepth(['demo'], async () => ({ queued: 3 }));
    assert.match((await metricsText()).body, /^conveyor_queue_executions\{queue="demo",status="queued"\} 3$/m);
  });
});
