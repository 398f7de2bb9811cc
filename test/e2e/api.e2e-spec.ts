import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import type { ExecutionView } from '@conveyor/contracts';
import { Stack } from '@conveyor/testing';

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
  });

  it('reports liveness and readiness', async () => {
    assert.deepEqual((await stack.api.get('/health')).body, { status: 'ok' });
    assert.deepEqual((await stack.api.get('/health/ready')).body, { status: 'ready', redis: 'up' });
  });
});
