import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { ExecutionView, QueueView } from '@conveyor/contracts';
import { poll, Stack } from '@conveyor/testing';

describe('queue operations and retention', () => {
  let stack: Stack;
  let flaky: Server;
  let flakyUrl: string;
  let healthy = false;

  before(async () => {
    flaky = createServer((_request, response) => response.writeHead(healthy ? 200 : 503).end());
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    flakyUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`;
    stack = await Stack.start({ env: { HTTP_TASK_ALLOWED_HOSTS: '127.0.0.1' } });
  });
  after(async () => {
    await stack?.stop();
    flaky?.close();
  });

  const submit = async (body: object): Promise<ExecutionView> => (await stack.api.post('/v1/executions', body)).body;
  const read = async (id: string) => (await stack.api.get<ExecutionView>(`/v1/executions/${id}`)).body;
  const untilStatus = (id: string, status: string) => poll(() => read(id), { until: (e) => e.status === status, label: `${id} ${status}` });
  const queue = async (name: string) => (await stack.api.get<QueueView>(`/v1/queues/${name}`)).body;

  it('lists the queues with their counts', async () => {
    const done = await submit({ task: 'demo.noop' });
    await untilStatus(done.id, 'completed');
    const reply = await stack.api.get('/v1/queues');
    assert.deepEqual(reply.body.items.map((q: QueueView) => q.name), ['demo', 'http']);
    const demo = await queue('demo');
    assert.equal(demo.paused, false);
    assert.equal(demo.concurrency, null);
    assert.equal(demo.counts.completed, 1);
    assert.deepEqual(Object.keys(demo.counts).sort(), ['cancelled', 'completed', 'failed', 'paused', 'queued', 'running', 'scheduled']);
    assert.equal((await stack.api.get('/v1/queues/nope')).status, 404);
  });

  it('pauses and resumes a queue', async () => {
    const paused = await stack.api.post('/v1/queues/demo/pause');
    assert.equal(paused.status, 200);
    assert.equal(paused.body.paused, true);
    const waiting = await submit({ task: 'demo.noop' });
    const other = await submit({ task: 'http.request', input: { url: flakyUrl }, attempts: 1 });
    await poll(() => read(other.id), { until: (e) => e.status === 'failed', label: 'the other queue runs on' });
    assert.equal((await read(waiting.id)).status, 'queued');

    assert.equal((await stack.api.post('/v1/queues/demo/resume')).body.paused, false);
    await untilStatus(waiting.id, 'completed');
  });

  it('sets and removes the global concurrency', async () => {
    const set = await stack.api.request('PUT', '/v1/queues/demo/concurrency', { concurrency: 2 });
    assert.equal(set.body.concurrency, 2);
    assert.equal((await stack.api.request('PUT', '/v1/queues/demo/concurrency', { concurrency: null })).body.concurrency, null);
    const bad = await stack.api.request('PUT', '/v1/queues/demo/concurrency', { concurrency: 0 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, 'concurrency');
  });

  it('retries every failed execution of a queue, and cleans finished ones', async () => {
    for (const execution of await Promise.all([1, 2].map(() => submit({ task: 'http.request', input: { url: flakyUrl }, attempts: 1 })))) {
      await untilStatus(execution.id, 'failed');
    }
    const failed: ExecutionView[] = (await stack.api.get('/v1/executions?queue=http&status=failed')).body.items;
    assert.ok(failed.length >= 2);
    healthy = true;
    const reply = await stack.api.post('/v1/queues/http/retry-failed');
    assert.equal(reply.status, 200);
    for (const execution of failed) await untilStatus(execution.id, 'completed');

    const cleaned = await stack.api.post('/v1/queues/http/clean', { status: 'completed' });
    assert.deepEqual(cleaned.body, { removed: failed.length });
    for (const execution of failed) assert.equal((await stack.api.get(`/v1/executions/${execution.id}`)).status, 404);
    assert.equal((await stack.api.post('/v1/queues/http/clean', { status: 'running' })).status, 400);
  });

  it('keeps at most RETENTION_MAX_COUNT finished executions per queue, leaving no keys behind', async () => {
    const retained = await Stack.start({ env: { RETENTION_MAX_COUNT: '2', RETENTION_INTERVAL_MS: '200' } });
    const redis = new Redis(retained.redis.url);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { body } = await retained.api.post('/v1/executions', { task: 'demo.noop' });
        ids.push(body.id);
        await poll(async () => (await retained.api.get<ExecutionView>(`/v1/executions/${body.id}`)).body.status, {
          until: (status) => status === 'completed',
          label: 'completion',
        });
      }
      await poll(async () => Promise.all(ids.map(async (id) => (await retained.api.get(`/v1/executions/${id}`)).status)), {
        until: (statuses) => statuses.join() === '404,404,404,200,200',
        label: 'the three oldest removed',
      });
      for (const id of ids.slice(0, 3)) {
        assert.deepEqual(await redis.keys(`*${id}*`), [], `no keys of ${id}`);
        for (const index of await redis.keys('*:index:*')) assert.equal(await redis.zscore(index, id), null, `${id} not in ${index}`);
      }
      const list = await retained.api.get('/v1/executions');
      assert.deepEqual(list.body.items.map((e: ExecutionView) => e.id), ids.slice(3).reverse());
      assert.equal(list.body.totals.completed, 2);
    } finally {
      redis.disconnect();
      await retained.stop();
    }
  });
});
