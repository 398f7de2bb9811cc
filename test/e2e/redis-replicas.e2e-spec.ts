import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisServer, startService, type ServiceProcess } from '@conveyor/launcher';
import { poll } from '@conveyor/testing';

/** Commands that write nothing: a connection that only read an execution's keys has nothing to wait for. */
const reads = new Set(['wait', 'exists', 'get', 'hget', 'hmget', 'hgetall', 'smembers', 'zscore', 'zrange']);

/**
 * With REDIS_WAIT_REPLICAS=1, on a Redis master with a real replica: WAIT covers only the writes of the
 * connection it runs on, so every connection of the gateway that wrote a submission (Conveyor's records,
 * BullMQ's jobs) must send WAIT after its writes before the `202`. Read off the master with MONITOR.
 */
describe('REDIS_WAIT_REPLICAS on a Redis with a replica', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let gateway: ServiceProcess;

  before(async () => {
    [master, replica] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    const follower = new Redis(replica.url);
    // The master's data is loaded from the link, not from a dump.rdb written where the tests run.
    await follower.config('SET', 'repl-diskless-load', 'on-empty-db');
    await follower.replicaof('127.0.0.1', master.port);
    await poll(() => follower.info('replication'), { until: (info) => info.includes('master_link_status:up'), label: 'the replica in sync' });
    follower.disconnect();
    const env = { REDIS_URL: master.url, CONVEYOR_PREFIX: 'wait-replicas', GATEWAY_PORT: '0', LOG_LEVEL: 'warn', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '1000' };
    gateway = await startService('gateway', env);
  });
  after(async () => {
    await gateway?.process.stop();
    await Promise.all([replica?.stop(), master?.stop()]);
  });

  const post = async (path: string, body: unknown) => {
    const reply = await fetch(new URL(path, gateway.url!), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
  };

  /** The master's commands while `send` runs, each with the connection (`source`) that sent it. */
  async function seenDuring<T>(send: () => Promise<T>): Promise<{ answer: T; seen: { source: string; args: string[] }[] }> {
    // `monitor()` opens a connection of its own: the one it is called on never connects.
    const monitor = await new Redis(master.url, { lazyConnect: true }).monitor();
    const seen: { source: string; args: string[] }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, args }));
    try {
      const answer = await send();
      // The master fed its monitors before it answered; give their lines time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { answer, seen };
    } finally {
      monitor.disconnect();
    }
  }

  /** Each connection that wrote a key or field of these executions, and whether it sent WAIT after its last such write. */
  function waitsAfterWrites(seen: { source: string; args: string[] }[], ids: string[]): { source: string; waited: boolean }[] {
    const lastWrite = new Map<string, number>();
    seen.forEach(({ source, args }, at) => {
      const writes = source !== 'lua' && !reads.has(args[0].toLowerCase()) && args.some((arg) => ids.some((id) => arg.includes(id)));
      if (writes) lastWrite.set(source, at);
    });
    return [...lastWrite].map(([source, at]) => ({ source, waited: seen.some((command, i) => i > at && command.source === source && command.args[0].toLowerCase() === 'wait') }));
  }

  it('waits on every connection that wrote a submission, and on every one that wrote a batch', async () => {
    const single = await seenDuring(() => post('/v1/executions', { task: 'demo.noop', input: { payload: 1 } }));
    assert.equal(single.answer.status, 202, JSON.stringify(single.answer.body));
    const singleWaits = waitsAfterWrites(single.seen, [single.answer.body.id as string]);
    assert.ok(singleWaits.length > 0, 'the submission was written');
    assert.deepEqual(singleWaits.filter(({ waited }) => !waited), [], `each connection that wrote it sent WAIT after (${JSON.stringify(singleWaits)})`);

    const batch = await seenDuring(() => post('/v1/executions/batch', { executions: [1, 2, 3].map((payload) => ({ task: 'demo.noop', input: { payload } })) }));
    assert.equal(batch.answer.status, 202, JSON.stringify(batch.answer.body));
    const batchWaits = waitsAfterWrites(batch.seen, (batch.answer.body.items as { id: string }[]).map(({ id }) => id));
    assert.ok(batchWaits.length > 0, 'the batch was written');
    assert.deepEqual(batchWaits.filter(({ waited }) => !waited), [], `each connection that wrote it sent WAIT after (${JSON.stringify(batchWaits)})`);
  });

  it('answers 503 not_replicated once the replica is gone', async () => {
    await replica.stop();
    const started = Date.now();
    const reply = await post('/v1/executions', { task: 'demo.noop', input: { payload: 2 } });
    assert.equal(reply.status, 503, JSON.stringify(reply.body));
    assert.equal(reply.body.code, 'not_replicated');
    assert.ok(Date.now() - started < 5000, 'within the wait timeout, not a hang');
  });
});
