import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ConveyorClient } from '@conveyor/client';
import type { ExecutionView } from '@conveyor/contracts';
import { Stack, type ApiReply } from '@conveyor/testing';

// The REST contract itself (status codes, headers, error bodies, input the client's types do not
// allow) is the subject here: raw HTTP, but for reading back and for the catalogue.
describe('REST API: validation, errors, catalogue, Bull Board', () => {
  let stack: Stack;
  let client: ConveyorClient;

  before(async () => {
    stack = await Stack.start({ workers: 0, monitors: 0 });
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  const submit = (body: unknown) => stack.api.post('/v1/executions', body);

  it('lists every bad field of a submission, with its full path', async () => {
    const reply = await submit({
      task: 'demo.steps',
      input: { steps: 10_001, stepMs: -1, extra: true },
      priority: 'urgent',
      tags: ['ok', ''],
      backoff: { type: 'linear', delayMs: 1 },
      unknown: 1,
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.code, 'validation_failed');
    const byPath = Object.fromEntries(reply.body.details.map((d: { path: string; message: string }) => [d.path, d.message]));
    assert.equal(byPath['input.steps'], 'must not be greater than 10000');
    assert.equal(byPath['input.stepMs'], 'must not be less than 0');
    assert.equal(byPath['input.extra'], 'should not exist');
    assert.match(byPath.priority, /must be one of critical, high, normal, low/);
    assert.match(byPath.tags, /each value must be 1 to 64 characters/);
    assert.match(byPath['backoff.type'], /must be one of the following values: exponential, fixed/);
    assert.equal(byPath.unknown, 'should not exist');
    assert.match(reply.body.message, /input\.steps/);
    assert.equal(JSON.stringify(reply.body).includes(' at '), false, 'no stack trace');
  });

  it('rejects an unknown task, a missing input field and delayMs with runAt', async () => {
    const unknown = await submit({ task: 'no.such' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.details, [
      { path: 'task', message: 'is not a known task (known: demo.steps, demo.noop, http.request)' },
    ]);

    const missing = await submit({ task: 'demo.steps', input: { steps: 1 } });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.details.map((d: { path: string }) => d.path), ['input.stepMs']);

    const both = await submit({ task: 'demo.noop', delayMs: 10, runAt: new Date().toISOString() });
    assert.equal(both.status, 400);
    assert.deepEqual(both.body.details, [{ path: 'runAt', message: 'cannot be combined with delayMs: give one or the other' }]);

    const notObject = await submit([1, 2]);
    assert.equal(notObject.status, 400);
  });

  it('answers bad JSON with 400 and oversized bodies and inputs with 413', async () => {
    const badJson = await submit('{"task":');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.code, 'invalid_json');

    const bigInput = await submit({ task: 'demo.noop', input: { payload: 'x'.repeat(300 * 1024) } });
    assert.equal(bigInput.status, 413);
    assert.equal(bigInput.body.code, 'payload_too_large');

    const bigBody = await submit({ task: 'demo.noop', input: { payload: 'x'.repeat(1100 * 1024) } });
    assert.equal(bigBody.status, 413);
    assert.equal(bigBody.body.code, 'payload_too_large');
  });

  it('reads a body as JSON only by its Content-Type, in a UTF charset, compressed or not', async () => {
    const body = JSON.stringify({ task: 'demo.noop' });
    const post = async (headers: Record<string, string>, content: string | Buffer = body): Promise<ApiReply> => {
      const reply = await fetch(`${stack.gatewayUrl}/v1/executions`, { method: 'POST', headers, body: content });
      return { status: reply.status, headers: reply.headers, body: await reply.json() };
    };
    // Another type is not read: the route sees no body.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/vnd.api+json']) {
      const reply = await post({ 'content-type': type });
      assert.equal(reply.status, 400, type);
      assert.deepEqual(reply.body.details, [{ path: '(body)', message: 'must be an object' }], type);
    }
    assert.equal((await post({ 'content-type': 'Application/JSON; charset=UTF-8' })).status, 202);
    assert.equal((await post({ 'content-type': 'application/json' }, `\ufeff${body}`)).status, 202, 'a byte-order mark is dropped');
    assert.equal((await post({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(body))).status, 202);
    // A common slip of clients: an empty body with a JSON Content-Type reads as `{}`.
    assert.deepEqual((await post({ 'content-type': 'application/json' }, '')).body.details, [{ path: 'task', message: 'is required' }]);

    for (const [headers, message] of [
      [{ 'content-type': ';;;' }, 'The Content-Type header is not a valid media type.'],
      [{ 'content-type': 'application/json; charset=latin1' }, 'The charset latin1 is not supported: send JSON as UTF-8.'],
      [{ 'content-type': 'application/json', 'content-encoding': 'zstd' }, 'The Content-Encoding zstd is not supported.'],
    ] as const) {
      assert.deepEqual((await post(headers)).body, { statusCode: 415, code: 'unsupported_media_type', message });
    }
    const bomb = await post({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(JSON.stringify({ task: 'demo.noop', input: { payload: 'x'.repeat(2 * 1024 * 1024) } })));
    assert.equal(bomb.body.code, 'payload_too_large', 'the limit holds for the inflated body');
  });

  it('routes any case and a trailing slash, checks a long id by its format, and names no framework', async () => {
    assert.equal((await stack.api.get('/V1/Executions/?limit=1')).status, 200);
    const long = await stack.api.get(`/v1/executions/exec_${'A'.repeat(5_000)}`);
    assert.equal(long.status, 404);
    assert.match(long.body.message, /^Execution exec_A+… was not found\.$/);
    const badEscape = await stack.api.get('/v1/%zz');
    assert.deepEqual(badEscape.body, { statusCode: 400, code: 'invalid_path', message: 'The request path holds a malformed percent-escape.' });
    const reply = await fetch(`${stack.gatewayUrl}/health`);
    assert.equal(reply.headers.get('x-powered-by'), null);
  });

  it('answers 404 for an unknown execution and an unknown route', async () => {
    const execution = await stack.api.get('/v1/executions/exec_01M000000000000000000000ZZ');
    assert.equal(execution.status, 404);
    assert.deepEqual(execution.body, {
      statusCode: 404,
      code: 'not_found',
      message: 'Execution exec_01M000000000000000000000ZZ was not found.',
    });
    assert.equal((await stack.api.get('/v1/nothing-here')).status, 404);
  });

  it('accepts a submission with every option and returns it with a Location', async () => {
    const reply = await submit({
      task: 'demo.steps',
      input: { steps: 3, stepMs: 10 },
      priority: 'high',
      attempts: 5,
      backoff: { type: 'fixed', delayMs: 100, jitter: 0.5 },
      timeoutMs: 10_000,
      delayMs: 60_000,
      tags: ['nightly', 'team-a'],
    });
    assert.equal(reply.status, 202);
    assert.equal(reply.headers.get('location'), `/v1/executions/${reply.body.id}`);
    assert.equal(reply.body.status, 'scheduled');
    assert.equal(reply.body.priority, 10);
    assert.deepEqual(reply.body.attempts, { made: 0, max: 5 });
    assert.deepEqual(reply.body.tags, ['nightly', 'team-a']);
    assert.equal(reply.body.tenant, 'default');

    const read = await stack.api.get(reply.headers.get('location')!);
    assert.equal(read.status, 200);
    assert.deepEqual({ ...read.body }, reply.body);
  });

  it('gives concurrent submissions with one idempotency key one execution', async () => {
    const body = { task: 'demo.steps', input: { steps: 2, stepMs: 1 }, idempotencyKey: 'order-42' };
    const replies = await Promise.all([
      submit(body),
      submit({ ...body }),
      stack.api.request('POST', '/v1/executions', { task: 'demo.steps', input: { stepMs: 1, steps: 2 } }, { 'idempotency-key': 'order-42' }),
    ]);
    assert.deepEqual(replies.map((r) => r.status).sort(), [200, 200, 202]);
    assert.equal(new Set(replies.map((r) => r.body.id)).size, 1);
    assert.ok(replies.every((r) => r.headers.get('location') === `/v1/executions/${replies[0].body.id}`));

    const conflict = await submit({ ...body, input: { steps: 3, stepMs: 1 } });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, 'idempotency_conflict');

    const otherKey = await submit({ ...body, idempotencyKey: 'order-43' });
    assert.equal(otherKey.status, 202);
    assert.notEqual(otherKey.body.id, replies[0].body.id);

    const mismatch = await stack.api.request('POST', '/v1/executions', body, { 'idempotency-key': 'other' });
    assert.equal(mismatch.status, 400);
  });

  it('accepts a batch in one request, or rejects it whole, naming bad items by index', async () => {
    const good = { task: 'demo.noop', input: { payload: 1 } };
    const accepted = await stack.api.post('/v1/executions/batch', {
      executions: [good, { task: 'demo.steps', input: { steps: 1, stepMs: 0 }, priority: 'low' }, { ...good, delayMs: 1000 }],
    });
    assert.equal(accepted.status, 202);
    assert.deepEqual(accepted.body.items.map((e: ExecutionView) => [e.task, e.status]), [
      ['demo.noop', 'queued'],
      ['demo.steps', 'queued'],
      ['demo.noop', 'scheduled'],
    ]);
    for (const item of accepted.body.items) assert.equal((await client.get(item.id)).id, item.id);

    const rejected = await stack.api.post('/v1/executions/batch', {
      executions: [good, { task: 'demo.steps', input: { steps: 0, stepMs: 0 } }, good, { task: 'nope' }],
    });
    assert.equal(rejected.status, 400);
    assert.deepEqual(rejected.body.details.map((d: { path: string }) => d.path), ['executions[1].input.steps', 'executions[3].task']);

    const tooMany = await stack.api.post('/v1/executions/batch', { executions: Array.from({ length: 1001 }, () => good) });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.details[0].path, 'executions');
  });

  it('lists the task catalogue with JSON Schemas of the inputs', async () => {
    const { items } = await client.tasks();
    const steps = items.find((t) => t.name === 'demo.steps')!;
    assert.equal(steps.queue, 'demo');
    const schema = steps.inputSchema as { properties: Record<string, { maximum?: number }>; required: string[] };
    assert.equal(schema.properties.steps.maximum, 10_000);
    assert.deepEqual(schema.required.sort(), ['stepMs', 'steps']);
    assert.deepEqual(items.map((t) => t.name), ['demo.steps', 'demo.noop', 'http.request']);
  });

  it('serves Bull Board at /admin/queues with every queue', async () => {
    const page = await fetch(`${stack.gatewayUrl}/admin/queues`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const queues = await stack.api.get('/admin/queues/api/queues');
    assert.equal(queues.status, 200);
    const names = queues.body.queues.map((q: { displayName?: string; name: string }) => q.displayName ?? q.name).sort();
    assert.deepEqual(names, ['demo', 'http', 'schedules']);

    // Refused before Bull Board's own routes, with the contract's error body.
    const hostile = await stack.api.request('PUT', '/admin/queues/api/queues/demo/pause', '{"__proto__":{"x":1}}');
    assert.equal(hostile.status, 400);
    assert.equal(hostile.body.code, 'validation_failed');
    assert.equal((await stack.api.request('PUT', '/admin/queues/api/queues/demo/pause', '{"x":')).body.code, 'invalid_json');
  });

  it('serves the dashboard at /ui/, where /ui redirects, and nothing outside its folder', async () => {
    const redirect = await fetch(`${stack.gatewayUrl}/ui?x=1`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/ui/');
    const page = await fetch(`${stack.gatewayUrl}/ui/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<script type="module" src="\/ui\/app\.js">/);
    assert.equal((await fetch(`${stack.gatewayUrl}/ui/app.js`)).status, 200);
    assert.equal((await stack.api.get('/ui/nothing.js')).body.code, 'not_found');
    // Sent as it is (fetch would resolve the dots first).
    const { port } = new URL(stack.gatewayUrl);
    const outside = await new Promise<string>((resolve, reject) =>
      get({ host: '127.0.0.1', port, path: '/ui/../package.json' }, (response) => response.setEncoding('utf8').on('data', resolve)).once('error', reject),
    );
    assert.equal(JSON.parse(outside).code, 'not_found');
  });

  it('reports liveness and readiness', async () => {
    assert.deepEqual((await stack.api.get('/health')).body, { status: 'ok' });
    assert.deepEqual((await stack.api.get('/health/ready')).body, { status: 'ready', redis: 'up' });
  });
});
