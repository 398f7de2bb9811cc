import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ServiceProcess } from '@conveyor/launcher';
import { ApiClient, poll, stackCredentials, Stack, type ApiReply } from '@conveyor/testing';

type LogLine = Record<string, any>;

/** The JSON lines a service has written so far (anything else it printed is left out). */
function logLines(service: ServiceProcess): LogLine[] {
  return service.process.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

describe('request logs', () => {
  const credentials = stackCredentials(['acme']);
  let stack: Stack;
  let acme: ApiClient;
  let gateway: ServiceProcess;

  before(async () => {
    // The worker's lines about each execution's course are written at `debug`.
    stack = await Stack.start({ env: credentials.env, workers: 0 });
    await stack.startWorker({ LOG_LEVEL: 'debug' });
    acme = stack.api.as(credentials.tenants.acme);
    gateway = stack.gateways[0];
  });
  after(async () => {
    await stack?.stop();
  });

  /** The request lines of the gateway with this id, once there is one (a line is written once the answer is sent). */
  async function requestLines(requestId: string, service = gateway): Promise<LogLine[]> {
    const lines = () => logLines(service).filter((line) => line.msg === 'request' && line.requestId === requestId);
    await poll(async () => lines().length, { until: (count) => count > 0, label: `the request line of ${requestId}` });
    return lines();
  }

  /** The one request line of a reply, checked against its `X-Request-Id`. */
  async function lineOf(reply: ApiReply, service = gateway): Promise<LogLine> {
    const requestId = reply.headers.get('x-request-id');
    assert.ok(requestId, 'X-Request-Id answered');
    const lines = await requestLines(requestId, service);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].status, reply.status);
    assert.equal(typeof lines[0].durationMs, 'number');
    return lines[0];
  }

  it("logs a submission once, under the caller's request id, naming the execution it created", async () => {
    const requestId = `client-${randomUUID()}`;
    const reply = await acme.request('POST', '/v1/executions', { task: 'demo.noop' }, { 'x-request-id': requestId });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    assert.equal(reply.headers.get('x-request-id'), requestId);
    const line = await lineOf(reply);
    assert.deepEqual(
      { method: line.method, route: line.route, path: line.path, executionIds: line.executionIds, executionCount: line.executionCount },
      { method: 'POST', route: '/v1/executions', path: '/v1/executions', executionIds: [reply.body.id], executionCount: 1 },
    );
    assert.equal(line.service, 'gateway');
  });

  it('makes a request id when none is sent, and names the execution a route by id acts on, refused or not', async () => {
    const id = (await acme.post('/v1/executions', { task: 'demo.noop' })).body.id as string;
    const read = await acme.get(`/v1/executions/${id}`);
    assert.equal(read.status, 200);
    assert.match(read.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const line = await lineOf(read);
    assert.deepEqual([line.route, line.path, line.executionIds], ['/v1/executions/:id', `/v1/executions/${id}`, [id]]);

    const missing = `exec_${'0'.repeat(26)}`;
    const cancel = await acme.post(`/v1/executions/${missing}/cancel`, {});
    assert.equal(cancel.status, 404);
    const refused = await lineOf(cancel);
    assert.deepEqual([refused.route, refused.executionIds], ['/v1/executions/:id/cancel', [missing]]);
  });

  it('names at most 100 ids of a batch, with their count', async () => {
    const reply = await acme.post('/v1/executions/batch', { executions: Array.from({ length: 120 }, () => ({ task: 'demo.noop' })) });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const line = await lineOf(reply);
    assert.equal(line.executionCount, 120);
    assert.deepEqual(line.executionIds, reply.body.items.slice(0, 100).map((item: { id: string }) => item.id));
  });

  it('answers the request id on refusals too: unauthenticated, unknown route, malformed path', async () => {
    for (const [path, api, status] of [
      ['/v1/executions', stack.api, 401],
      ['/v1/nothing-here', acme, 404],
      ['/v1/executions/%zz', acme, 400],
    ] as const) {
      const requestId = `refused-${randomUUID()}`;
      const reply = await api.request('GET', path, undefined, { 'x-request-id': requestId });
      assert.equal(reply.status, status, path);
      assert.equal(reply.headers.get('x-request-id'), requestId, path);
      await lineOf(reply);
    }
  });

  it('replaces an incoming request id that is too long or holds unsafe characters', async () => {
    for (const bad of ['x'.repeat(129), 'a b', 'a\tb', 'a"b', 'évé', '<script>']) {
      const reply = await acme.request('GET', '/v1/executions?limit=1', undefined, { 'x-request-id': bad });
      assert.equal(reply.status, 200);
      const answered = reply.headers.get('x-request-id') ?? '';
      assert.notEqual(answered, bad);
      assert.match(answered, /^[0-9a-f-]{36}$/);
      assert.equal((await lineOf(reply)).path, '/v1/executions', 'the query is not logged');
    }
    assert.ok(!logLines(gateway).some((line) => line.requestId === 'x'.repeat(129) || line.requestId === 'a b'));
  });

  it('logs health probes at debug only, and the monitor logs its requests the same way', async () => {
    const requestId = `probe-${randomUUID()}`;
    const probe = await stack.api.request('GET', '/health', undefined, { 'x-request-id': requestId });
    assert.equal(probe.status, 200);
    assert.equal(probe.headers.get('x-request-id'), requestId);
    const monitor = stack.monitors[0];
    const onMonitor = await new ApiClient(stack.monitorUrl, {}, false).request('GET', '/nothing-here', undefined, { 'x-request-id': requestId });
    assert.equal(onMonitor.headers.get('x-request-id'), requestId);
    assert.equal((await lineOf(onMonitor, monitor)).route, null);
    // LOG_LEVEL is info: the probe's line is not written.
    assert.ok(!logLines(gateway).some((line) => line.requestId === requestId));
  });

  it("names the execution on each of the worker's lines about it", async () => {
    const reply = await acme.post('/v1/executions', { task: 'demo.steps', input: { steps: 2, stepMs: 10 } });
    const id = reply.body.id as string;
    await poll(() => acme.get(`/v1/executions/${id}`), { until: (read) => read.body.status === 'completed', label: 'completed' });
    const worker = stack.workers[0];
    const about = () => logLines(worker).filter((line) => JSON.stringify(line).includes(id));
    const lines = await poll(async () => about(), { until: (found) => found.some((line) => line.msg === 'execution.completed'), label: 'the completion line' });
    assert.ok(lines.some((line) => line.msg === 'attempt started'));
    for (const line of lines) assert.deepEqual([line.executionId, line.queue, line.task], [id, reply.body.queue, 'demo.steps'], JSON.stringify(line));
  });

  it('never logs a key, a browser token, a session cookie or the token secret', async () => {
    const id = (await acme.post('/v1/executions', { task: 'demo.noop' })).body.id as string;
    const { token } = (await acme.post('/v1/tokens', { scope: { executions: [id] } })).body as { token: string };
    assert.equal((await stack.api.as(token).get(`/v1/executions/${id}`)).status, 200);
    const cookie = `conveyor_session=${randomUUID()}`;
    const basic = `Basic ${Buffer.from(`u:${credentials.admin}`).toString('base64')}`;
    // Basic auth is Bull Board's: refused here, still not logged.
    assert.equal((await stack.api.request('GET', '/v1/executions', undefined, { cookie, authorization: basic })).status, 401);
    const unknownKey = `cvk_${'x'.repeat(43)}`;
    assert.equal((await stack.api.as(unknownKey).get('/v1/executions')).status, 401);
    const secrets = [credentials.admin, credentials.tenants.acme, credentials.env.CONVEYOR_TOKEN_SECRET, token, cookie, basic, unknownKey, 'Bearer '];
    for (const service of [...stack.gateways, ...stack.workers, ...stack.monitors]) {
      for (const line of service.process.lines) {
        for (const secret of secrets) assert.ok(!line.includes(secret), `${service.name} logged ${secret.slice(0, 10)}…: ${line}`);
      }
    }
  });
});
