import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConveyorEvent, ExecutionView } from '@conveyor/contracts';
import { ExecutionWatcher, poll, Stack } from '@conveyor/testing';

describe('workers', () => {
  describe('priorities', () => {
    let stack: Stack;
    before(async () => {
      stack = await Stack.start({ workers: 0 });
    });
    after(() => stack?.stop());

    it('runs queued executions in priority order', async () => {
      const ids: Record<string, string> = {};
      for (const priority of ['low', 'normal', 'high', 'critical']) {
        const reply = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 1, stepMs: 0 }, priority });
        assert.equal(reply.status, 202);
        ids[priority] = reply.body.id;
      }
      await stack.startWorker({ WORKER_CONCURRENCY: '1', WORKER_QUEUES: 'demo' });

      const finished = await poll(
        () => Promise.all(Object.values(ids).map(async (id) => (await stack.api.get<ExecutionView>(`/v1/executions/${id}`)).body)),
        { until: (all) => all.every((e) => e.status === 'completed'), label: 'all four completed' },
      );
      const order = [...finished].sort((a, b) => a.startedAt!.localeCompare(b.startedAt!) || a.finishedAt!.localeCompare(b.finishedAt!));
      assert.deepEqual(
        order.map((e) => e.id),
        ['critical', 'high', 'normal', 'low'].map((p) => ids[p]),
      );
    });
  });

  describe('http.request', () => {
    let stack: Stack;
    let target: Server;
    let targetUrl: string;
    before(async () => {
      target = createServer((request, response) => {
        const status = request.url === '/missing' ? 404 : 200;
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ path: request.url, method: request.method }));
      });
      await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
      targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
      stack = await Stack.start({ env: { HTTP_TASK_ALLOWED_HOSTS: '127.0.0.1' } });
    });
    after(async () => {
      await stack?.stop();
      target?.close();
    });

    const run = async (input: object) => {
      const reply = await stack.api.post('/v1/executions', { task: 'http.request', input, backoff: { type: 'fixed', delayMs: 10 } });
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      return poll(async () => (await stack.api.get<ExecutionView>(`/v1/executions/${reply.body.id}`)).body, {
        until: (e) => e.status === 'completed' || e.status === 'failed',
        label: 'the request to end',
      });
    };

    it('calls an allowed host and returns the response', async () => {
      const done = await run({ url: `${targetUrl}/hello`, method: 'POST', body: { a: 1 } });
      assert.equal(done.status, 'completed');
      assert.deepEqual((done.result as { status: number; body: unknown }).body, { path: '/hello', method: 'POST' });
      assert.equal((done.result as { status: number }).status, 200);
    });

    it('fails a disallowed host at once, without retries, saying why', async () => {
      const done = await run({ url: 'http://localhost:9/never' });
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'host_not_allowed');
      assert.match(done.error!.message, /localhost is not in HTTP_TASK_ALLOWED_HOSTS/);
      assert.equal(done.attempts.made, 1);
    });

    it('fails a 4xx answer without retrying', async () => {
      const done = await run({ url: `${targetUrl}/missing` });
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'http_status');
      assert.equal(done.attempts.made, 1);
    });
  });

  describe('graceful shutdown', () => {
    let stack: Stack;
    before(async () => {
      stack = await Stack.start();
    });
    after(() => stack?.stop());

    it('lets a running handler finish after SIGTERM', async () => {
      const watcher = await ExecutionWatcher.connect(stack.monitorUrl);
      try {
        const reply = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 4, stepMs: 250 } });
        await watcher.subscribe(reply.body.id, 0);
        await watcher.waitFor((e) => e.type === 'execution.started', 'the start');
        const exitCode = await stack.workers[0].process.stop('SIGTERM');
        assert.equal(exitCode, 0);
        const end = await watcher.waitForEnd(reply.body.id);
        assert.equal(end.type, 'execution.completed');
        assert.equal(watcher.of(reply.body.id).filter((e) => e.type === 'execution.started').length, 1);
      } finally {
        watcher.close();
      }
    });

    it('queues a handler that outlives the grace period again, and another worker finishes it from its checkpoint', async () => {
      const hasty = await stack.startWorker({ WORKER_SHUTDOWN_GRACE_MS: '300' });
      const watcher = await ExecutionWatcher.connect(stack.monitorUrl);
      try {
        const reply = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 6, stepMs: 200 } });
        await watcher.subscribe(reply.body.id, 0);
        await watcher.waitFor((e) => e.type === 'execution.progress', 'a first step');
        assert.equal(await hasty.process.stop('SIGTERM'), 0);
        assert.equal((await stack.api.get<ExecutionView>(`/v1/executions/${reply.body.id}`)).body.status, 'queued');

        await stack.startWorker();
        const end = await watcher.waitForEnd(reply.body.id);
        assert.equal(end.type, 'execution.completed');
        const events = watcher.of(reply.body.id);
        assert.equal(events.some((e) => e.type === 'execution.failed' || e.type === 'execution.retrying'), false);
        const steps = events.filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress').map((e) => e.data.step);
        assert.equal(new Set(steps).size, steps.length, `no checkpointed step ran twice: ${steps.join(',')}`);
      } finally {
        watcher.close();
      }
    });
  });
});
