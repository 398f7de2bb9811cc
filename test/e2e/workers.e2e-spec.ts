import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent, HttpRequestInput } from '@conveyor/contracts';
import { Stack, submitAndWatch } from '@conveyor/testing';

describe('workers', () => {
  describe('priorities', () => {
    let stack: Stack;
    let client: ConveyorClient;
    before(async () => {
      stack = await Stack.start({ workers: 0 });
      client = stack.client();
    });
    after(async () => {
      client?.close();
      await stack?.stop();
    });

    it('runs queued executions in priority order', async () => {
      const ids: Record<string, string> = {};
      for (const priority of ['low', 'normal', 'high', 'critical'] as const) {
        ids[priority] = (await client.submit('demo.steps', { steps: 1, stepMs: 0 }, { priority })).id;
      }
      await stack.startWorker({ WORKER_CONCURRENCY: '1', WORKER_QUEUES: 'demo' });

      const finished = await Promise.all(Object.values(ids).map((id) => client.watch(id).done));
      assert.ok(finished.every((e) => e.status === 'completed'), 'all four completed');
      const order = [...finished].sort((a, b) => a.startedAt!.localeCompare(b.startedAt!) || a.finishedAt!.localeCompare(b.finishedAt!));
      assert.deepEqual(
        order.map((e) => e.id),
        ['critical', 'high', 'normal', 'low'].map((p) => ids[p]),
      );
    });
  });

  describe('http.request', () => {
    let stack: Stack;
    let client: ConveyorClient;
    let target: Server;
    let targetUrl: string;
    before(async () => {
      target = createServer((request, response) => {
        const status = request.url === '/missing' ? 404 : 200;
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ path: request.url, method: request.method }));
      });
      await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
      const { port } = target.address() as AddressInfo;
      targetUrl = `http://127.0.0.1:${port}`;
      // The target is on loopback: its address must be listed, as a host name never unlocks one.
      stack = await Stack.start({ env: { HTTP_TASK_ALLOWED_HOSTS: `127.0.0.1:${port}`, EGRESS_ALLOW_PRIVATE: '127.0.0.1' } });
      client = stack.client();
    });
    after(async () => {
      client?.close();
      await stack?.stop();
      target?.close();
    });

    /** The execution once the request has ended. */
    const run = async (input: HttpRequestInput) => {
      const { id } = await client.submit('http.request', input, { backoff: { type: 'fixed', delayMs: 10 } });
      return client.watch(id).done;
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
    let client: ConveyorClient;
    before(async () => {
      stack = await Stack.start();
      client = stack.client();
    });
    after(async () => {
      client?.close();
      await stack?.stop();
    });

    it('lets a running handler finish after SIGTERM', async () => {
      const run = await submitAndWatch(client, 'demo.steps', { steps: 4, stepMs: 250 });
      await run.waitFor('execution.started');
      const exitCode = await stack.workers[0].process.stop('SIGTERM');
      assert.equal(exitCode, 0);
      await run.done;
      assert.equal(run.events.at(-1)?.type, 'execution.completed');
      assert.equal(run.events.filter((e) => e.type === 'execution.started').length, 1);
    });

    it('queues a handler that outlives the grace period again, and another worker finishes it from its checkpoint', async () => {
      const hasty = await stack.startWorker({ WORKER_SHUTDOWN_GRACE_MS: '300' });
      const run = await submitAndWatch(client, 'demo.steps', { steps: 6, stepMs: 200 });
      await run.waitFor('execution.progress');
      assert.equal(await hasty.process.stop('SIGTERM'), 0);
      assert.equal((await client.get(run.executionId)).status, 'queued');

      await stack.startWorker();
      await run.done;
      assert.equal(run.events.at(-1)?.type, 'execution.completed');
      assert.equal(run.events.some((e) => e.type === 'execution.failed' || e.type === 'execution.retrying'), false);
      const steps = run.events.filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress').map((e) => e.data.step);
      assert.equal(new Set(steps).size, steps.length, `no checkpointed step ran twice: ${steps.join(',')}`);
    });
  });
});
