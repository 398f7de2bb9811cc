import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorApiError, type ConveyorClient } from '@conveyor/client';
import { RedisKeys } from '@conveyor/redis';
import { poll, Stack } from '@conveyor/testing';

describe('queue operations and retention', () => {
  let stack: Stack;
  let client: ConveyorClient;
  let flaky: Server;
  let flakyUrl: string;
  let healthy = false;

  before(async () => {
    flaky = createServer((_request, response) => response.writeHead(healthy ? 200 : 503).end());
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const { port } = flaky.address() as AddressInfo;
    flakyUrl = `http://127.0.0.1:${port}/`;
    stack = await Stack.start({ env: { HTTP_TASK_ALLOWED_HOSTS: `127.0.0.1:${port}`, EGRESS_ALLOW_PRIVATE: '127.0.0.1' } });
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
    flaky?.close();
  });

  const failing = () => client.submit('http.request', { url: flakyUrl }, { attempts: 1 });
  /** The execution once it has ended. */
  const ended = (id: string, through = client) => through.watch(id).done;

  it('lists the queues with their counts', async () => {
    const done = await client.submit('demo.noop', {});
    assert.equal((await ended(done.id)).status, 'completed');
    const { items } = await client.queues.list();
    assert.deepEqual(items.map((q) => q.name), ['demo', 'http']);
    const demo = await client.queues.get('demo');
    assert.equal(demo.paused, false);
    assert.equal(demo.concurrency, null);
    assert.equal(demo.counts.completed, 1);
    assert.deepEqual(Object.keys(demo.counts).sort(), ['cancelled', 'completed', 'failed', 'paused', 'queued', 'running', 'scheduled']);
    assert.equal((await stack.api.get('/v1/queues/nope')).status, 404);
  });

  it('pauses and resumes a queue', async () => {
    assert.equal((await client.queues.pause('demo')).paused, true);
    const waiting = await client.submit('demo.noop', {});
    const other = await failing();
    assert.equal((await ended(other.id)).status, 'failed', 'the other queue runs on');
    assert.equal((await client.get(waiting.id)).status, 'queued');

    assert.equal((await client.queues.resume('demo')).paused, false);
    assert.equal((await ended(waiting.id)).status, 'completed');
  });

  it('sets and removes the global concurrency', async () => {
    assert.equal((await client.queues.setConcurrency('demo', 2)).concurrency, 2);
    assert.equal((await client.queues.get('demo')).concurrency, 2);
    assert.equal((await client.queues.setConcurrency('demo', null)).concurrency, null);
    // The refusal (its status and body are the subject): raw.
    const bad = await stack.api.request('PUT', '/v1/queues/demo/concurrency', { concurrency: 0 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, 'concurrency');
  });

  it('retries every failed execution of a queue, and cleans finished ones', async () => {
    for (const execution of await Promise.all([1, 2].map(() => failing()))) {
      assert.equal((await ended(execution.id)).status, 'failed');
    }
    const { items: failed } = await client.list({ queue: ['http'], status: ['failed'] });
    assert.ok(failed.length >= 2);
    healthy = true;
    await client.queues.retryFailed('http');
    for (const execution of failed) assert.equal((await ended(execution.id)).status, 'completed');

    assert.deepEqual(await client.queues.clean('http', { status: 'completed' }), { removed: failed.length });
    for (const execution of failed) {
      await assert.rejects(client.get(execution.id), (error: unknown) => error instanceof ConveyorApiError && error.statusCode === 404);
    }
    assert.equal((await stack.api.post('/v1/queues/http/clean', { status: 'running' })).status, 400);
  });

  it('counts as runnable what a worker could start now: waiting and prioritized, not scheduled, paused or held by tenant limits', async () => {
    // No worker at first: what is submitted stays in BullMQ's waiting and prioritized lists.
    const idle = await Stack.start({ workers: 0 });
    const idleClient = idle.client();
    const long = { steps: 600, stepMs: 100 };
    try {
      const runnable = async () => (await idleClient.queues.get('demo')).runnable;
      assert.equal(await runnable(), 0);
      await idleClient.submit('demo.noop', {}, { priority: 'high' });
      await idleClient.submit('demo.noop', {}, { priority: 'low' });
      await idleClient.submit('demo.noop', {}, { delayMs: 60_000 });
      const demo = await idleClient.queues.get('demo');
      assert.deepEqual([demo.runnable, demo.counts.queued, demo.counts.scheduled], [2, 2, 1]);
      assert.equal((await idleClient.queues.pause('demo')).runnable, 0, 'a paused queue starts nothing');
      assert.equal((await idleClient.queues.resume('demo')).runnable, 2);
      const scoped = await idle.api.get('/v1/queues/demo?tenant=acme');
      assert.deepEqual([scoped.body.counts.queued, scoped.body.runnable], [0, 2], 'an admin’s runnable spans every tenant');

      // A worker runs them; then one running at a time for the tenant: the others are held, and not runnable.
      await idle.startWorker();
      await poll(async () => (await idleClient.queues.get('demo')).counts.completed, { until: (completed) => completed === 2, label: 'both run' });
      assert.equal((await idle.api.put('/v1/tenants/default/limits', { maxRunning: 1 })).status, 200);
      await sleep(1100); // a limit applies on every worker within a second
      const held = await Promise.all([1, 2, 3].map(() => idleClient.submit('demo.steps', long)));
      await poll(async () => Promise.all(held.map(async ({ id }) => (await idleClient.get(id)).waitingFor)), {
        until: (waiting) => waiting.filter((why) => why === 'tenant_concurrency').length === 2,
        label: 'two held',
      });
      const settled = await poll(async () => idleClient.queues.get('demo'), {
        until: (view) => view.counts.running === 1 && view.counts.queued === 2,
        label: 'one running, two held',
      });
      assert.equal(settled.runnable, 0, 'held executions count as queued, not as runnable');
      for (const { id } of held) await idleClient.cancel(id);
    } finally {
      idleClient.close();
      await idle.stop();
    }
  });

  it('keeps at most RETENTION_MAX_COUNT finished executions per queue, leaving no keys behind', async () => {
    const retained = await Stack.start({ env: { RETENTION_MAX_COUNT: '2', RETENTION_INTERVAL_MS: '200' } });
    const retainedClient = retained.client();
    const redis = retained.redis.connect();
    try {
      const ids: string[] = [];
      // The first is the only one of its task: lists stop reading that task's indexes once it is gone.
      for (let i = 0; i < 5; i++) {
        const { id } = i === 0 ? await retainedClient.submit('demo.steps', { steps: 1, stepMs: 0 }) : await retainedClient.submit('demo.noop', {});
        ids.push(id);
        assert.equal((await ended(id, retainedClient)).status, 'completed');
      }
      // Whether an execution is still there is its answer's status: raw.
      await poll(async () => Promise.all(ids.map(async (id) => (await retained.api.get(`/v1/executions/${id}`)).status)), {
        until: (statuses) => statuses.join() === '404,404,404,200,200',
        label: 'the three oldest removed',
      });
      for (const id of ids.slice(0, 3)) {
        assert.deepEqual(await retained.redis.keys(redis, `*${id}*`), [], `no keys of ${id}`);
        for (const index of await retained.redis.keys(redis, '*:index:*')) assert.equal(await redis.zscore(index, id), null, `${id} not in ${index}`);
      }
      await poll(() => redis.smembers(new RedisKeys(retained.prefix).indexedTasks('demo', 'default')), {
        until: (tasks) => tasks.join() === 'demo.noop',
        label: 'the tasks that lists read, without the one whose executions are gone',
      });
      const list = await retainedClient.list();
      assert.deepEqual(list.items.map((e) => e.id), ids.slice(3).reverse());
      assert.equal(list.totals.completed, 2);
    } finally {
      retainedClient.close();
      redis.disconnect();
      await retained.stop();
    }
  });
});
