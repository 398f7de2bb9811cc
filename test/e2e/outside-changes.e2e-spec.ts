import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { ConveyorClient } from '@conveyor/client';
import { RedisKeys } from '@conveyor/redis';
import { EventLog, poll, Stack, submitAndWatch } from '@conveyor/testing';

describe('changes made outside Conveyor', () => {
  let stack: Stack;
  let client: ConveyorClient;

  before(async () => {
    stack = await Stack.start();
    client = stack.client();
    // A paused queue keeps its executions queued (its workers still watch it).
    assert.equal((await client.queues.pause('http')).paused, true);
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  const board = (queue: string, path: string) => fetch(`${stack.gatewayUrl}/admin/queues/api/queues/${encodeURIComponent(`{${queue}}`)}/${path}`, { method: 'PUT' });

  it('shows a failed execution retried in Bull Board as queued again, with execution.retried', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0, failTimes: 1 }, { attempts: 1 });
    assert.equal((await run.done).status, 'failed');
    // A watch ends with the failure; what follows comes to the queue's room.
    const room = new EventLog();
    const follow = client.follow({ queue: 'demo' }, room);
    try {
      await follow.joined;
      assert.equal((await board('demo', `${run.executionId}/retry`)).status, 204);

      await room.waitFor('execution.retried', (e) => e.executionId === run.executionId);
      await room.waitFor('execution.completed', (e) => e.executionId === run.executionId);
    } finally {
      follow.stop();
    }
    const done = await client.get(run.executionId);
    assert.equal(done.status, 'completed');
    assert.equal(done.error, null);
    assert.deepEqual(
      [...run.events, ...room.events.filter((e) => e.executionId === run.executionId)]
        .filter((e) => e.seq !== undefined && e.type !== 'execution.progress')
        .map((e) => e.type),
      ['execution.queued', 'execution.started', 'execution.failed', 'execution.retried', 'execution.started', 'execution.completed'],
    );
  });

  it('announces a retry made outside Conveyor that no listener reported before a worker took the job', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0, failTimes: 1 }, { attempts: 1 });
    assert.equal((await run.done).status, 'failed');
    // No worker runs, so no one hears BullMQ's `waiting`; the next worker only sees the job.
    await stack.workers[0].process.stop();
    const connection = stack.redis.connect();
    const demo = new Queue(new RedisKeys(stack.prefix).bullQueueName('demo'), { connection, prefix: stack.prefix });
    try {
      await (await demo.getJob(run.executionId))!.retry('failed');
    } finally {
      await demo.close();
      connection.disconnect();
    }
    await stack.startWorker();

    const done = await poll(() => client.get(run.executionId), { until: (e) => e.status === 'completed', label: 'the retried execution to complete' });
    assert.equal(done.error, null);
    const types = (await client.events(run.executionId)).items.map((e) => e.type).filter((type) => type !== 'execution.progress');
    assert.deepEqual(types, ['execution.queued', 'execution.started', 'execution.failed', 'execution.retried', 'execution.started', 'execution.completed']);
  });

  it('ends a queued execution whose job was removed while no worker listened, as cancelled', async () => {
    const execution = await client.submit('http.request', { url: 'http://127.0.0.1:9/' });
    await Promise.all(stack.workers.map((worker) => worker.process.stop()));
    const connection = stack.redis.connect();
    const http = new Queue(new RedisKeys(stack.prefix).bullQueueName('http'), { connection, prefix: stack.prefix });
    try {
      assert.equal(await http.remove(execution.id), 1);
    } finally {
      await http.close();
      connection.disconnect();
    }
    await stack.startWorker();

    const ended = await poll(() => client.get(execution.id), { until: (e) => e.status === 'cancelled', label: 'the execution to end cancelled', timeoutMs: 30_000 });
    assert.equal(ended.cancelReason, 'removed outside Conveyor');
    assert.deepEqual((await client.events(execution.id)).items.map((e) => e.type), ['execution.queued', 'execution.cancelled']);
  });

  it('ends a queued execution removed in Bull Board as cancelled, saying so', async () => {
    const run = await submitAndWatch(client, 'http.request', { url: 'http://127.0.0.1:9/' });
    assert.equal((await board('http', `${run.executionId}/clean`)).status, 204);
    const final = await run.done;
    const end = run.events.at(-1)!;
    assert.equal(end.type, 'execution.cancelled');
    assert.deepEqual(end.data, { reason: 'removed outside Conveyor' });
    assert.equal(final.status, 'cancelled');
    assert.equal(final.cancelReason, 'removed outside Conveyor');
  });

  it('counts a delayed execution as queued once its runAt has come', async () => {
    const execution = await client.submit('http.request', { url: 'http://127.0.0.1:9/' }, { delayMs: 300 });
    await poll(() => client.list({ queue: ['http'], status: ['queued'] }), {
      until: (page) => page.items.some((e) => e.id === execution.id),
      label: 'listed as queued',
    });
    assert.equal((await client.get(execution.id)).status, 'queued');
  });

  it('leaves a retried execution queued when it hears late of its earlier job’s removal, with the new job on its way', async () => {
    const keys = new RedisKeys(stack.prefix);
    const redis = stack.redis.connect();
    const http = new Queue(keys.bullQueueName('http'), { connection: redis, prefix: stack.prefix });
    const isAfter = (id: string, other: string) => {
      const [ms, n] = id.split('-').map(Number);
      const [otherMs, otherN] = other.split('-').map(Number);
      return ms > otherMs || (ms === otherMs && n >= otherN);
    };
    try {
      // The endings repair, which ends a run whose job never comes, waits: only the reader acts until then.
      await redis.set(keys.endingsRepairLock('http'), 'held by the test', 'PX', 120_000);
      await client.submit('http.request', { url: 'http://127.0.0.1:9/' });
      await poll(() => redis.get(keys.outsideChangesRead('http')), { until: (read) => read !== null, label: 'how far the reader got, stored' });
      await Promise.all(stack.workers.map((worker) => worker.process.stop()));

      // With no reader, the cancel removes the job; the retry queues the record, then adds the job again.
      const execution = await client.submit('http.request', { url: 'http://127.0.0.1:9/' });
      await client.cancel(execution.id);
      await client.retry(execution.id);
      // Gone without an event, the new job looks as if it were still on its way.
      await redis.multi().del(http.toKey(execution.id)).zrem(http.keys.prioritized, execution.id).lrem(http.keys.wait, 0, execution.id).lrem(http.keys.paused, 0, execution.id).exec();
      assert.equal(await http.getJobState(execution.id), 'unknown');
      const events = await redis.xrange(http.keys.events, '-', '+');
      const [removal] = events.find(([, fields]) => fields.includes('removed') && fields.includes(execution.id))!;

      await stack.startWorker();
      await poll(() => redis.get(keys.outsideChangesRead('http')), { until: (read) => isAfter(read!, removal), label: 'the removal handled by the next reader' });
      const types = (await client.events(execution.id)).items.map((e) => e.type);
      assert.deepEqual(types, ['execution.queued', 'execution.cancelled', 'execution.retried']);

      // The endings repair then ends the run whose job never came.
      await redis.del(keys.endingsRepairLock('http'));
      const ended = await poll(() => client.get(execution.id), { until: (e) => e.status === 'cancelled', label: 'the run ended by the repair', timeoutMs: 30_000 });
      assert.equal(ended.cancelReason, 'removed outside Conveyor');
    } finally {
      await http.close();
      redis.disconnect();
    }
  });
});

describe('the reading of outside changes, by one worker of several', () => {
  let stack: Stack;
  let client: ConveyorClient;

  before(async () => {
    stack = await Stack.start({ workers: 2 });
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  const readersOf = (queue: string) =>
    stack.workers.filter((worker) => worker.process.lines.some((line) => line.includes('"msg":"reading outside changes"') && line.includes(`"queue":"${queue}"`)));

  it('is one worker’s, and the next reader handles from where it left off what happened once it died', async () => {
    const keys = new RedisKeys(stack.prefix);
    const redis = stack.redis.connect();
    const demo = new Queue(keys.bullQueueName('demo'), { connection: redis, prefix: stack.prefix });
    try {
      const [reader] = await poll(async () => readersOf('demo'), { until: (readers) => readers.length > 0, label: 'a reader of the demo queue' });
      const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0, failTimes: 1 }, { attempts: 1 });
      assert.equal((await run.done).status, 'failed');
      // The run's events reach the reader, which stores how far it got.
      await poll(() => redis.get(keys.outsideChangesRead('demo')), { until: (read) => read !== null, label: 'how far the reader got, stored' });
      assert.equal(readersOf('demo').length, 1, 'one reader of the queue');

      // Paused, the queue keeps a retried job waiting: only the reading of outside changes can announce it.
      assert.equal((await client.queues.pause('demo')).paused, true);
      await reader.process.stop('SIGKILL');
      await (await demo.getJob(run.executionId))!.retry('failed');

      // A read derives `queued` from the job at once; the record and its events follow the reader.
      const announced = async () => (await client.events(run.executionId)).items.map((e) => e.type).filter((type) => type !== 'execution.progress');
      const types = await poll(announced, { until: (types) => types.includes('execution.retried'), label: 'the retry announced by the next reader', timeoutMs: 30_000 });
      assert.deepEqual(types, ['execution.queued', 'execution.started', 'execution.failed', 'execution.retried']);
      const retried = await client.get(run.executionId);
      assert.deepEqual([retried.status, retried.error], ['queued', null]);
      assert.equal(readersOf('demo').filter((worker) => worker !== reader).length, 1, 'the other worker reads now');
    } finally {
      await demo.close();
      redis.disconnect();
    }
  });
});
