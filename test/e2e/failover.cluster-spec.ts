import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { demoNoop } from '@conveyor/contracts';
import { poll, Stack } from '@conveyor/testing';

/*
 * Runs on Redis Cluster only (`npm run test:cluster`): a master dies under a stream of submissions.
 * With REDIS_WAIT_REPLICAS=1 a 202 means a replica holds the execution, so when that replica takes
 * over, every acknowledged execution is still there and completes; gateway and worker reconnect by
 * themselves. Until the new master has a replica again, submissions answer 503 `not_replicated`.
 */
describe('a Redis Cluster master failing over under load', () => {
  let stack: Stack;
  let redis: Redis;

  before(async () => {
    stack = await Stack.start({ env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '2000', WORKER_QUEUES: demoNoop.queue } });
    redis = stack.redis.connect();
  });
  after(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it('completes every execution that got a 202, the one master of its queue killed meanwhile', async (t) => {
    const acknowledged = new Set<string>();
    let refused = 0;
    let stop = false;
    // Each submission carries its own Idempotency-Key and is sent again until it is answered: a
    // refusal during the failover (503) or a lost reply never makes two executions.
    const submitter = async (lane: number) => {
      for (let n = 0; !stop; n++) {
        const key = `failover-${lane}-${n}`;
        for (;;) {
          const reply = await stack.api
            .request('POST', '/v1/executions', { task: demoNoop.name, input: { payload: key } }, { 'idempotency-key': key })
            .catch(() => null);
          if (reply && (reply.status === 202 || reply.status === 200)) {
            acknowledged.add(reply.body.id);
            break;
          }
          refused++;
          if (stop) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    const lanes = Array.from({ length: 8 }, (_, lane) => submitter(lane));

    await poll(async () => acknowledged.size, { until: (n) => n >= 100, label: '100 submissions before the failover', timeoutMs: 60_000 });
    const slot = Number(await redis.cluster('KEYSLOT', `{${demoNoop.queue}}`));
    const beforeKill = acknowledged.size;
    const dead = await stack.redis.cluster.failOver(slot);
    // Its replica took over with no replica of its own (WAIT 1 cannot be met): the dead node comes
    // back, as an orchestrator would restart it, and follows the new master.
    await stack.redis.cluster.restart(dead);
    await poll(async () => acknowledged.size, { until: (n) => n >= beforeKill + 100, label: '100 submissions after the failover', timeoutMs: 90_000 });
    stop = true;
    await Promise.all(lanes);

    const ids = [...acknowledged];
    const ended = await poll(
      async () => Promise.all(ids.map(async (id) => (await stack.api.get(`/v1/executions/${id}`)).body as { id: string; status?: string; error?: unknown })),
      { until: (all) => all.every(({ status }) => status === 'completed' || status === 'failed' || status === 'cancelled'), label: `${ids.length} acknowledged executions to end`, timeoutMs: 120_000, intervalMs: 500 },
    );
    assert.deepEqual(ended.filter(({ status }) => status !== 'completed'), [], 'every acknowledged execution completes');
    t.diagnostic(`${ids.length} acknowledged, ${refused} answers refused or lost during the failover and sent again`);
  });
});
