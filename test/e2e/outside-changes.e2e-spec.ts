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
});
