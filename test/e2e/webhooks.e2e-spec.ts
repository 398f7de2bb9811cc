import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliveryHeader, signatureHeader, verifyWebhook, webhookEventTypes } from '@conveyor/contracts/core';
import { WebhookNotFoundError } from '@conveyor/contracts';
import { RedisKeys } from '@conveyor/redis';
import { WebhookStore } from '@conveyor/webhooks';
import { poll, stackCredentials, Stack, WebhookReceiver, type ApiClient, type ReceivedHook } from '@conveyor/testing';

const retryBaseMs = 200;
const retryHorizonMs = 3_000;

describe('outbound webhooks', () => {
  const credentials = stackCredentials(['acme', 'globex']);
  let receiver: WebhookReceiver;
  let stack: Stack;
  let acme: ApiClient;
  let globex: ApiClient;

  before(async () => {
    receiver = await WebhookReceiver.start();
    // No monitor: deliveries never depend on the live event path.
    stack = await Stack.start({
      monitors: 0,
      env: {
        ...credentials.env,
        EGRESS_ALLOW_PRIVATE: '127.0.0.1',
        WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
        WEBHOOK_RETRY_BASE_MS: String(retryBaseMs),
        WEBHOOK_RETRY_HORIZON_MS: String(retryHorizonMs),
      },
    });
    acme = stack.api.as(credentials.tenants.acme);
    globex = stack.api.as(credentials.tenants.globex);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  /** A new endpoint of acme's on `path`, for executions tagged `tag` only (so that each test sees its own). */
  async function endpoint(path: string, tag: string, events: readonly string[] = ['execution.completed'], filters: object = {}) {
    const reply = await acme.post('/v1/webhooks', { url: receiver.url(path), events, filters: { tag, ...filters } });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body as { id: string; secret: string };
  }

  async function submit(task: string, input: object, tag: string): Promise<string> {
    const reply = await acme.post('/v1/executions', { task, input, tags: [tag] });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    return reply.body.id;
  }

  const received = (path: string, count: number, label = `${count} requests to ${path}`) =>
    poll(async () => receiver.to(path), { until: (hooks) => hooks.length >= count, label });

  const deliveries = async (id: string) => (await acme.get(`/v1/webhooks/${id}/deliveries`)).body.items as any[];

  const eventOf = (hook: ReceivedHook) => JSON.parse(hook.body);

  it("posts each chosen state event of a matching execution, signed with the endpoint's secret, never its progress", async () => {
    const hook = await endpoint('/signed', 'signed', webhookEventTypes);
    const id = await submit('demo.steps', { steps: 2, stepMs: 20 }, 'signed');
    await submit('demo.noop', {}, 'other');
    const hooks = await poll(async () => receiver.to('/signed'), { until: (all) => all.some((h) => eventOf(h).type === 'execution.completed'), label: 'the completion delivered' });
    assert.deepEqual(new Set(hooks.map((h) => eventOf(h).type)), new Set(['execution.queued', 'execution.started', 'execution.completed']));
    for (const h of hooks) {
      const event = eventOf(h);
      assert.equal(event.executionId, id);
      assert.equal(h.headers['content-type'], 'application/json');
      assert.equal(h.headers[deliveryHeader.toLowerCase()], `${hook.id}.${id}.${event.seq}`);
      assert.equal(await verifyWebhook(h.body, h.headers[signatureHeader.toLowerCase()], hook.secret), true);
      assert.equal(await verifyWebhook(h.body, h.headers[signatureHeader.toLowerCase()], 'whsec_wrong'), false);
    }
    const log = await poll(() => deliveries(hook.id), { until: (items) => items.length === hooks.length && items.every((d) => d.status === 'delivered'), label: 'the delivery log' });
    assert.deepEqual(log[0].attempts.map((a: any) => [a.statusCode, a.responseExcerpt]), [[200, 'answer 200']]);
    assert.equal(typeof log[0].attempts[0].durationMs, 'number');
  });

  it('retries a 500 with growing waits, under the same delivery id, until a 200', async () => {
    receiver.script('/flaky', (n) => ({ status: n <= 2 ? 500 : 200 }));
    const hook = await endpoint('/flaky', 'flaky');
    await submit('demo.noop', {}, 'flaky');
    const hooks = await received('/flaky', 3);
    assert.equal(new Set(hooks.map((h) => h.headers[deliveryHeader.toLowerCase()])).size, 1);
    const [first, second] = [hooks[1].at - hooks[0].at, hooks[2].at - hooks[1].at];
    assert.ok(first >= retryBaseMs && second >= 2 * retryBaseMs && second > first, `waits ${first} then ${second} ms`);
    const [delivery] = await poll(() => deliveries(hook.id), { until: (items) => items[0]?.status === 'delivered', label: 'delivered' });
    assert.deepEqual(delivery.attempts.map((a: any) => a.statusCode), [500, 500, 200]);
  });

  it('does not retry a 400', async () => {
    receiver.script('/refusing', () => ({ status: 400 }));
    const hook = await endpoint('/refusing', 'refusing');
    await submit('demo.noop', {}, 'refusing');
    const [delivery] = await poll(() => deliveries(hook.id), { until: (items) => items[0]?.status === 'failed', label: 'failed' });
    assert.deepEqual(delivery.attempts.map((a: any) => a.statusCode), [400]);
    assert.equal(receiver.to('/refusing').length, 1);
    assert.equal((await acme.get(`/v1/webhooks/${hook.id}`)).body.enabled, true);
  });

  it('honours Retry-After on a 429', async () => {
    receiver.script('/busy', (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    await endpoint('/busy', 'busy');
    await submit('demo.noop', {}, 'busy');
    const hooks = await received('/busy', 2);
    assert.ok(hooks[1].at - hooks[0].at >= 1_000, `waited ${hooks[1].at - hooks[0].at} ms`);
  });

  it('disables an endpoint that fails for the whole horizon, which then gets nothing more', async () => {
    receiver.script('/down', () => ({ status: 503 }));
    const down = await endpoint('/down', 'down');
    await endpoint('/down-control', 'down');
    await submit('demo.noop', {}, 'down');
    const disabled = await poll(async () => (await acme.get(`/v1/webhooks/${down.id}`)).body, { until: (view) => view.enabled === false, label: 'disabled', timeoutMs: retryHorizonMs + 10_000 });
    assert.match(disabled.disabledReason, /WEBHOOK_RETRY_HORIZON_MS.*HTTP 503/);
    const [failed] = await deliveries(down.id);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.attempts.length >= 3, JSON.stringify(failed.attempts));
    const before = receiver.to('/down').length;
    // The control endpoint gets the next event in the same relay pass as the disabled one would.
    await submit('demo.noop', {}, 'down');
    await received('/down-control', 2);
    assert.equal(receiver.to('/down').length, before);
    // Enabled by hand: deliveries start again, the reason is gone.
    const enabled = await acme.request('PATCH', `/v1/webhooks/${down.id}`, { enabled: true });
    assert.deepEqual([enabled.body.enabled, enabled.body.disabledReason], [true, null]);
  });

  it('keeps an endpoint enabled when one delivery fails for the whole horizon but another succeeds meanwhile', async () => {
    let failing = '';
    receiver.script('/partial', (_n, hook) => (eventOf(hook).executionId === failing ? { status: 503 } : { status: 200 }));
    const partial = await endpoint('/partial', 'partial');
    failing = await submit('demo.noop', {}, 'partial');
    await received('/partial', 1);
    const working = await submit('demo.noop', {}, 'partial');
    await poll(async () => receiver.to('/partial').filter((hook) => eventOf(hook).executionId === working), { until: (hooks) => hooks.length === 1, label: 'the other delivery' });
    const log = await poll(() => deliveries(partial.id), { until: (items) => items.some((d) => d.status === 'failed'), label: 'failed at the horizon', timeoutMs: retryHorizonMs + 10_000 });
    assert.deepEqual(log.map((d) => d.status).sort(), ['delivered', 'failed']);
    const view = (await acme.get(`/v1/webhooks/${partial.id}`)).body;
    assert.deepEqual([view.enabled, view.disabledReason], [true, null]);
  });

  it('filters by task, queue and tag: every set filter must match', async () => {
    await endpoint('/noop-only', 'filters', ['execution.completed'], { task: 'demo.noop' });
    await endpoint('/steps-only', 'filters', ['execution.completed'], { task: 'demo.steps' });
    await endpoint('/http-only', 'filters', ['execution.completed'], { queue: 'http' });
    const noop = await submit('demo.noop', {}, 'filters');
    const steps = await submit('demo.steps', { steps: 1, stepMs: 1 }, 'filters');
    const [noopHook] = await received('/noop-only', 1);
    const [stepsHook] = await received('/steps-only', 1);
    assert.equal(eventOf(noopHook).executionId, noop);
    assert.equal(eventOf(stepsHook).executionId, steps);
    // Both were relayed in the passes that would have sent these too.
    assert.equal(receiver.to('/noop-only').length + receiver.to('/steps-only').length + receiver.to('/http-only').length, 2);
  });

  it("sends schedule events, filtered by the schedule's task and tags", async () => {
    const hook = await endpoint('/schedules', 'nightly', ['schedule.updated'], { task: 'demo.noop' });
    const created = await acme.post('/v1/schedules', { name: 'nightly', task: 'demo.noop', tags: ['nightly'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await acme.post('/v1/schedules', { name: 'other', task: 'demo.noop', tags: ['other'] });
    const [hooked] = await received('/schedules', 1);
    const event = eventOf(hooked);
    assert.deepEqual([event.type, event.scheduleId, event.seq], ['schedule.updated', created.body.id, 1]);
    assert.equal(hooked.headers[deliveryHeader.toLowerCase()], `${hook.id}.${created.body.id}.1`);
  });

  it('signs with both secrets while a rotation overlaps, then with the new one only; /test sends a signed ping', async () => {
    const hook = await endpoint('/rotated', 'rotated');
    const rotated = await acme.post(`/v1/webhooks/${hook.id}/rotate-secret`, { overlapSeconds: 60 });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.secret, hook.secret);
    assert.ok(rotated.body.previousSecretExpiresAt);
    const test = await acme.post(`/v1/webhooks/${hook.id}/test`);
    assert.deepEqual([test.status, test.body.eventType, test.body.status], [202, 'webhook.test', 'pending']);
    const [ping] = await received('/rotated', 1);
    assert.equal(eventOf(ping).type, 'webhook.test');
    assert.equal(ping.headers[deliveryHeader.toLowerCase()], test.body.id);
    const signature = ping.headers[signatureHeader.toLowerCase()];
    assert.equal(signature.split(',').filter((part) => part.startsWith('v1=')).length, 2);
    assert.equal(await verifyWebhook(ping.body, signature, rotated.body.secret), true);
    assert.equal(await verifyWebhook(ping.body, signature, hook.secret), true);

    const again = await acme.post(`/v1/webhooks/${hook.id}/rotate-secret`, { overlapSeconds: 0 });
    await acme.post(`/v1/webhooks/${hook.id}/test`);
    const [, second] = await received('/rotated', 2);
    assert.equal(await verifyWebhook(second.body, second.headers[signatureHeader.toLowerCase()], again.body.secret), true);
    assert.equal(await verifyWebhook(second.body, second.headers[signatureHeader.toLowerCase()], rotated.body.secret), false);
    assert.equal((await acme.get(`/v1/webhooks/${hook.id}`)).body.secret, undefined);
  });

  it('refuses bad fields with a 400 naming each', async () => {
    const bad = await acme.post('/v1/webhooks', { url: 'ftp://example.com/x', events: ['execution.progress', 'nope'], filters: { queue: 'nope', tag: '' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(new Set(bad.body.details.map((d: any) => d.path)), new Set(['url', 'events', 'filters.queue', 'filters.tag']));
    assert.equal((await acme.post('/v1/webhooks', { url: receiver.url('/x') })).body.details[0].path, 'events');
    const hook = await endpoint('/patched', 'patched');
    const patch = await acme.request('PATCH', `/v1/webhooks/${hook.id}`, { events: [], enabled: 'yes' });
    assert.equal(patch.status, 400);
    assert.deepEqual(new Set(patch.body.details.map((d: any) => d.path)), new Set(['events', 'enabled']));
    const cursor = await acme.get(`/v1/webhooks/${hook.id}/deliveries?cursor=nonsense`);
    assert.deepEqual([cursor.status, cursor.body.details[0].path], [400, 'cursor']);
  });

  it("reads another tenant's endpoint, or a malformed id, as 404", async () => {
    const hook = await endpoint('/private', 'private');
    for (const path of [`/v1/webhooks/${hook.id}`, `/v1/webhooks/${hook.id}/deliveries`]) assert.equal((await globex.get(path)).status, 404);
    assert.equal((await globex.request('PATCH', `/v1/webhooks/${hook.id}`, { enabled: false })).status, 404);
    assert.equal((await globex.delete(`/v1/webhooks/${hook.id}`)).status, 404);
    assert.equal((await acme.get('/v1/webhooks/whk_nope')).status, 404);
    assert.deepEqual((await globex.get('/v1/webhooks')).body.items, []);
    assert.ok((await acme.get('/v1/webhooks')).body.items.some((item: any) => item.id === hook.id));
    assert.equal((await acme.delete(`/v1/webhooks/${hook.id}`)).status, 204);
    assert.equal((await acme.get(`/v1/webhooks/${hook.id}`)).status, 404);
  });

  it('delivers again, with the same id, after a worker is killed mid-delivery; events recorded with no worker running are delivered once one starts', async () => {
    receiver.script('/crash', (n) => (n === 1 ? 'hang' : { status: 200 }));
    await endpoint('/crash', 'crash', ['execution.queued']);
    await submit('demo.noop', {}, 'crash');
    const [first] = await received('/crash', 1);
    for (const worker of stack.workers) await worker.process.stop('SIGKILL');
    const whileDown = await submit('demo.noop', {}, 'crash');
    await stack.startWorker();
    const hooks = await received('/crash', 3);
    const again = hooks.filter((h) => h.headers[deliveryHeader.toLowerCase()] === first.headers[deliveryHeader.toLowerCase()]);
    assert.equal(again.length, 2);
    assert.ok(hooks.some((h) => eventOf(h).executionId === whileDown));
  });

  it('delivers each event once with two workers', async () => {
    await stack.startWorker();
    const hook = await endpoint('/once', 'once');
    const ids = await Promise.all(Array.from({ length: 6 }, () => submit('demo.noop', {}, 'once')));
    const hooks = await received('/once', ids.length);
    const log = await poll(() => deliveries(hook.id), { until: (items) => items.length === ids.length && items.every((d) => d.status === 'delivered'), label: 'all delivered' });
    assert.deepEqual(new Set(hooks.map((h) => eventOf(h).executionId)), new Set(ids));
    assert.equal(new Set(hooks.map((h) => h.headers[deliveryHeader.toLowerCase()])).size, hooks.length);
    assert.ok(log.every((d) => d.attempts.length === 1));
    // Paged newest first: two pages hold them all, each once.
    const first = (await acme.get(`/v1/webhooks/${hook.id}/deliveries?limit=4`)).body;
    const second = (await acme.get(`/v1/webhooks/${hook.id}/deliveries?limit=4&cursor=${first.nextCursor}`)).body;
    assert.deepEqual([first.items.length, second.items.length, second.nextCursor], [4, 2, null]);
    assert.deepEqual([...first.items, ...second.items].map((d: any) => d.id), log.map((d) => d.id));
  });

  it('changes only the fields it is asked to, and never brings back a deleted endpoint or its log', async () => {
    const connection = stack.redis.connect();
    try {
      const keys = new RedisKeys(stack.prefix);
      const store = new WebhookStore(connection, keys);
      const created = await store.create('acme', { url: receiver.url('/store'), events: ['execution.completed'] });
      // A PATCH that read the endpoint before a rotation and a disable writes neither back.
      const stale = await store.read(created.id);
      const rotated = await store.rotateSecret(stale!, 0);
      await store.disable(created.id, 'failing');
      const patched = await store.update(stale!, { description: 'patched' });
      const now = (await store.read(created.id))!;
      assert.deepEqual([now.secret, now.enabled, now.disabledReason, patched.description], [rotated.secret, false, 'failing', 'patched']);
      // After a DELETE: a change is a 404, a disable and a relayed delivery make no keys.
      await store.delete(now);
      await assert.rejects(store.update(stale!, { description: 'late' }), (error) => error instanceof WebhookNotFoundError);
      await assert.rejects(store.rotateSecret(stale!, 0), (error) => error instanceof WebhookNotFoundError);
      await store.disable(created.id, 'late');
      await store.addDelivery(created.id, { id: `${created.id}.exec.1`, eventType: 'execution.completed', subjectId: 'exec' }, Date.now());
      const left = await Promise.all([keys.webhook(created.id), keys.webhookDeliveries(created.id), keys.webhookDeliveryRecords(created.id)].map((key) => connection.exists(key)));
      assert.deepEqual(left, [0, 0, 0]);
    } finally {
      connection.disconnect();
    }
  });
});
