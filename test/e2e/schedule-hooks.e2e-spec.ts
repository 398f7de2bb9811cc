import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signatureHeader, signWebhook } from '@conveyor/contracts';
import { ApiClient, assertApiError, poll, stackCredentials, stackPerSuite, type ApiReply } from '@conveyor/testing';

describe('inbound hooks', () => {
  const credentials = stackCredentials(['acme', 'globex', 'initech']);
  const suite = stackPerSuite({ env: credentials.env });
  const as = (tenant: string) => suite.stack.api.as(credentials.tenants[tenant]);
  const admin = () => suite.stack.api.as(credentials.admin);
  /** Every token a test made: none may appear in any log line. */
  const tokens: string[] = [];

  const input = { steps: 1, stepMs: 0, failAtStep: 1 };

  /** A schedule run by hand only (runs may overlap), and one hook of it. */
  async function scheduleWithHook(tenant = 'acme', name = `hooked-${tokens.length}`) {
    const schedule = await as(tenant).post('/v1/schedules', { name, task: 'demo.steps', input, overlap: 'allow' });
    assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
    const hook = await as(tenant).post(`/v1/schedules/${schedule.body.id}/hooks`, { description: 'from the CRM' });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const url = new URL(hook.body.url);
    tokens.push(url.pathname.split('/').at(-1)!);
    return { scheduleId: schedule.body.id as string, hook: hook.body as { id: string; url: string; secret: string }, path: url.pathname };
  }

  /** A call as another system makes it: no key, only the URL's token (and a signature when given). */
  function call(path: string, body: string | object, headers: Record<string, string> = {}): Promise<ApiReply> {
    return new ApiClient(suite.stack.gatewayUrl).request('POST', path, body, headers);
  }

  it("starts a run through the schedule's run-now path, its body merged over the schedule's input, with no API key", async () => {
    const { scheduleId, hook, path } = await scheduleWithHook();
    assert.match(hook.id, /^hook_[0-9A-Z]{26}$/);
    assert.match(hook.url, new RegExp(`^${suite.stack.gatewayUrl}/v1/hooks/hkt_[\\w-]{43}$`));
    assert.match(hook.secret, /^hks_[\w-]{43}$/);

    const reply = await call(path, { stepMs: 5, failAtStep: null });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    assert.match(reply.body.id, /^exec_/);
    const execution = (await as('acme').get(`/v1/executions/${reply.body.id}`)).body;
    assert.deepEqual([execution.input, execution.scheduleId, execution.tenant], [{ steps: 1, stepMs: 5 }, scheduleId, 'acme']);
    const runs = (await as('acme').get(`/v1/schedules/${scheduleId}/runs`)).body.items;
    assert.deepEqual(runs.map((run: { id: string }) => run.id), [reply.body.id]);

    const empty = await call(path, '');
    assert.equal(empty.status, 202, 'an empty body runs the input as it is');
    assert.deepEqual((await as('acme').get(`/v1/executions/${empty.body.id}`)).body.input, input);
  });

  it('checks a signature when one is sent: a good one (the SDK signs it) passes; a bad, stale or tampered one is 401', async () => {
    const { path, hook } = await scheduleWithHook();
    const signed = await suite.client.callHook(hook.url, { stepMs: 7 }, { secret: hook.secret });
    assert.equal((await as('acme').get(`/v1/executions/${signed.id}`)).body.input.stepMs, 7);
    const body = JSON.stringify({ stepMs: 7 });
    const refused = [
      await signWebhook(body, ['hks_another-secret']),
      await signWebhook(body, [hook.secret], Date.now() - 10 * 60_000),
      await signWebhook(JSON.stringify({ stepMs: 8 }), [hook.secret]),
      'not a signature',
    ];
    for (const header of refused) {
      const reply = await call(path, body, { [signatureHeader]: header });
      assertApiError(reply, 401, 'invalid_signature', header);
      assert.match(reply.body.message, /Conveyor-Signature/);
    }
  });

  it('checks a signature over the bytes sent: a body led by a byte-order mark, signed with it, passes', async () => {
    const { path, hook } = await scheduleWithHook();
    const body = `\uFEFF${JSON.stringify({ stepMs: 9 })}`;
    const bytes = new TextEncoder().encode(body);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    // Signed as a sender in another language would, over the bytes it sends.
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', hook.secret).update(`${t}.`).update(bytes).digest('hex');
    const reply = await call(path, body, { [signatureHeader]: `t=${t},v1=${v1}` });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    assert.equal((await as('acme').get(`/v1/executions/${reply.body.id}`)).body.input.stepMs, 9);
  });

  it('refuses a body that is no JSON object, and a merged input the task refuses, naming the fields', async () => {
    const { path } = await scheduleWithHook();
    const notObject = await call(path, [1, 2]);
    assertApiError(notObject, 400, 'validation_failed');
    assert.deepEqual(notObject.body.details.map((d: { path: string }) => d.path), ['(body)']);
    assertApiError(await call(path, '{"stepMs":', { 'content-type': 'application/json' }), 400, 'invalid_json');

    const invalid = await call(path, { steps: 0, stepMs: 'slow', extra: true });
    assertApiError(invalid, 400, 'validation_failed');
    assert.deepEqual(invalid.body.details.map((d: { path: string }) => d.path).sort(), ['input.extra', 'input.stepMs', 'input.steps']);
    const required = await call(path, { steps: null });
    assert.deepEqual(required.body.details, [{ path: 'input.steps', message: 'is required' }]);
  });

  it('answers a repeated Idempotency-Key with the first execution, and the same key with another body with 409', async () => {
    const { path } = await scheduleWithHook();
    const first = await call(path, { stepMs: 1 }, { 'idempotency-key': 'crm-event-1' });
    assert.equal(first.status, 202);
    const again = await call(path, { stepMs: 1 }, { 'idempotency-key': 'crm-event-1' });
    assert.deepEqual([again.status, again.body.id], [200, first.body.id]);
    assertApiError(await call(path, { stepMs: 2 }, { 'idempotency-key': 'crm-event-1' }), 409, 'idempotency_conflict');
    const other = await call(path, { stepMs: 1 }, { 'idempotency-key': 'crm-event-2' });
    assert.equal(other.status, 202);
    assert.notEqual(other.body.id, first.body.id);
    assertApiError(await call(path, {}, { 'idempotency-key': 'x'.repeat(201) }), 400, 'validation_failed');
  });

  it("keeps the schedule's overlap rule: a call it skips is 409, while a repeated Idempotency-Key still answers the first run", async () => {
    const schedule = await as('acme').post('/v1/schedules', { name: 'hooked-one-at-a-time', task: 'demo.steps', input: { steps: 1, stepMs: 60_000 } });
    const hook = await as('acme').post(`/v1/schedules/${schedule.body.id}/hooks`, {});
    const path = new URL(hook.body.url).pathname;
    tokens.push(path.split('/').at(-1)!);
    const first = await call(path, {}, { 'idempotency-key': 'long-run' });
    assert.equal(first.status, 202);
    const skipped = await call(path, {});
    assertApiError(skipped, 409, 'schedule_overlap');
    assert.match(skipped.body.message, new RegExp(first.body.id));
    const again = await call(path, {}, { 'idempotency-key': 'long-run' });
    assert.deepEqual([again.status, again.body.id], [200, first.body.id]);
    assert.equal((await as('acme').post(`/v1/executions/${first.body.id}/cancel`, {})).status, 200);
  });

  it('answers simultaneous calls with one Idempotency-Key with one run: the first 202, the others 200 with its id', async () => {
    const schedule = await as('acme').post('/v1/schedules', { name: 'hooked-at-once', task: 'demo.steps', input: { steps: 1, stepMs: 60_000 }, overlap: 'skip' });
    const hook = await as('acme').post(`/v1/schedules/${schedule.body.id}/hooks`, {});
    const path = new URL(hook.body.url).pathname;
    tokens.push(path.split('/').at(-1)!);
    const replies = await Promise.all(Array.from({ length: 8 }, () => call(path, {}, { 'idempotency-key': 'crm-burst' })));
    const made = replies.filter((reply) => reply.status === 202);
    assert.equal(made.length, 1, JSON.stringify(replies.map((reply) => [reply.status, reply.body])));
    assert.deepEqual(replies.filter((reply) => reply !== made[0]).map((reply) => [reply.status, reply.body.id]), Array.from({ length: 7 }, () => [200, made[0].body.id]));
    assert.deepEqual((await as('acme').get(`/v1/schedules/${schedule.body.id}/runs`)).body.items.map((run: { id: string }) => run.id), [made[0].body.id]);
    assert.equal((await as('acme').post(`/v1/executions/${made[0].body.id}/cancel`, {})).status, 200);
  });

  it("counts calls against the tenant's limits, as submits", async () => {
    const { path } = await scheduleWithHook('initech');
    assert.equal((await admin().put('/v1/tenants/initech/limits', { executionsPerDay: 1 })).status, 200);
    assert.equal((await call(path, {})).status, 202);
    const refused = await call(path, {});
    assertApiError(refused, 429, 'quota_exceeded');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await admin().get('/v1/tenants/initech')).body.usage.today, 1);
  });

  it("lists a schedule's hooks without secrets or tokens, to its own tenant only; a revoked hook and a deleted schedule's hooks are 404", async () => {
    const { scheduleId, hook, path } = await scheduleWithHook();
    const second = await as('acme').post(`/v1/schedules/${scheduleId}/hooks`, {});
    tokens.push(new URL(second.body.url).pathname.split('/').at(-1)!);
    const listed = await as('acme').get(`/v1/schedules/${scheduleId}/hooks`);
    assert.deepEqual(
      listed.body.items.map((item: object) => Object.keys(item).sort()),
      [['createdAt', 'description', 'id', 'scheduleId'], ['createdAt', 'description', 'id', 'scheduleId']],
    );
    assert.deepEqual(listed.body.items.map((item: { id: string; description: string | null }) => [item.id, item.description]), [[hook.id, 'from the CRM'], [second.body.id, null]]);

    for (const [method, route] of [['GET', `/v1/schedules/${scheduleId}/hooks`], ['POST', `/v1/schedules/${scheduleId}/hooks`], ['DELETE', `/v1/schedules/${scheduleId}/hooks/${hook.id}`]]) {
      assertApiError(await as('globex').request(method, route, method === 'POST' ? {} : undefined), 404, 'not_found', `globex ${method} ${route}`);
    }
    assertApiError(await as('acme').delete(`/v1/schedules/${scheduleId}/hooks/hook_nonsense`), 404, 'not_found');

    assert.equal((await as('acme').delete(`/v1/schedules/${scheduleId}/hooks/${hook.id}`)).status, 204);
    assertApiError(await call(path, {}), 404, 'not_found');
    assertApiError(await as('acme').delete(`/v1/schedules/${scheduleId}/hooks/${hook.id}`), 404, 'not_found');
    assert.equal((await call(new URL(second.body.url).pathname, {})).status, 202, 'the other hook still works');

    assert.equal((await as('acme').delete(`/v1/schedules/${scheduleId}`)).status, 204);
    assertApiError(await call(new URL(second.body.url).pathname, {}), 404, 'not_found');
    assertApiError(await call('/v1/hooks/hkt_malformed', {}), 404, 'not_found');
  });

  it('never writes a token into a log line: the request line shows the path redacted', async () => {
    const { path } = await scheduleWithHook();
    const reply = await call(path.replace('/v1/hooks/', '/V1/Hooks/'), {}, { 'x-request-id': 'hook-call' });
    assert.equal(reply.status, 202, 'paths match in any case');
    // Paths no route takes, which are logged too: one too long, one with an escaped letter and a malformed escape.
    assert.equal((await call(`${path}/extra`, {})).status, 404);
    assert.equal((await call(`${path.replace('/hooks/', '/%68ooks/')}%zz`, {})).status, 400);
    const gateway = suite.stack.gateways[0];
    const requestLines = () => gateway.process.lines.filter((text) => text.includes('"msg":"request"')).map((text) => JSON.parse(text));
    const lines = await poll(async () => requestLines(), { until: (found) => found.some((line) => line.requestId === 'hook-call'), label: 'the request line' });
    assert.equal(lines.find((line) => line.requestId === 'hook-call').path, '/V1/Hooks/[redacted]');
    for (const service of [...suite.stack.gateways, ...suite.stack.workers, ...suite.stack.monitors]) {
      for (const text of service.process.lines) {
        for (const made of tokens) assert.ok(!text.includes(made.slice(4)), `${service.name} logged a hook's token: ${text}`);
      }
    }
  });
});
