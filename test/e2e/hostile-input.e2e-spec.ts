import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import type { ConveyorClient } from '@conveyor/client';
import { Stack, type ApiReply } from '@conveyor/testing';

// What a hostile caller sends is the subject here: raw HTTP and raw socket.io, since the client SDK's
// types would not let most of these requests be written.
describe('hostile input: answered 4xx, never 500, and never stalling the gateway', () => {
  let stack: Stack;
  let client: ConveyorClient;
  let socket: Socket;
  const socketEvents: string[] = [];

  before(async () => {
    stack = await Stack.start({ workers: 0 });
    client = stack.client();
    socket = io(stack.monitorUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
    socket.onAny((type: string) => socketEvents.push(type));
    await connected(socket);
  });
  after(async () => {
    socket?.close();
    client?.close();
    await stack?.stop();
  });

  const connected = (s: Socket) => new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('connect_error', reject));
  const submit = (body: unknown) => stack.api.post('/v1/executions', body);
  const nested = (levels: number, leaf: string, open: string, close: string) => open.repeat(levels) + leaf + close.repeat(levels);
  const ack = (event: string, body: unknown) => socket.timeout(10_000).emitWithAck(event, body);
  const pathsOf = (reply: ApiReply) => reply.body.details.map((d: { path: string }) => d.path);
  const messageAt = (reply: ApiReply, path: string) => reply.body.details.find((d: { path: string }) => d.path === path)?.message;

  function assertValidation(reply: ApiReply, paths: string[]) {
    assert.equal(reply.status, 400, JSON.stringify(reply.body).slice(0, 300));
    assert.equal(reply.body.code, 'validation_failed');
    assert.deepEqual(pathsOf(reply), paths);
  }

  it('refuses JSON nested deeper than 64 levels with a 400, at any depth up to what 1 MiB holds', async () => {
    const inputAt = (levels: number) => `{"task":"demo.noop","input":{"payload":${nested(levels, '1', '{"a":', '}')}}}`;
    assert.equal((await submit(inputAt(62))).status, 202, '64 levels in all are accepted');
    const tooDeep = await submit(inputAt(63));
    assertValidation(tooDeep, [`input.payload${'.a'.repeat(62)}`]);
    assert.equal(tooDeep.body.details[0].message, 'is nested deeper than 64 levels');
    for (const levels of [1_500, 3_000, 5_000, 100_000]) {
      assert.equal((await submit(`{"task":"demo.noop","input":{"payload":${nested(levels, '1', '[', ']')}}}`)).status, 400, `${levels} arrays`);
      assert.equal((await submit(inputAt(levels))).status, 400, `${levels} objects`);
    }
    assert.equal((await stack.api.post('/v1/schedules', `{"name":"deep","task":"demo.noop","input":{"payload":${nested(3_000, '1', '[', ']')}}}`)).status, 400);
  });

  it('refuses __proto__, constructor and prototype keys anywhere, naming their path', async () => {
    assertValidation(await submit({ task: 'demo.noop', input: { payload: { constructor: 'x' } } }), ['input.payload.constructor']);
    assertValidation(await submit('{"task":"demo.noop","input":{"payload":{"list":[{"__proto__":{"admin":true}}]}}}'), ['input.payload.list[0].__proto__']);
    assertValidation(await submit({ task: 'http.request', input: { url: 'https://example.com', headers: { constructor: 'x' } } }), ['input.headers.constructor']);
    assertValidation(await submit({ task: 'demo.noop', prototype: 1 }), ['prototype']);
    assert.match(messageAt(await submit({ constructor: 1 }), 'constructor'), /reserved name/);

    assertValidation(await stack.api.post('/v1/schedules', { name: 'proto', task: 'demo.noop', input: { payload: { constructor: 1 } } }), ['input.payload.constructor']);
    const schedule = await client.schedules.create({ name: 'patched', task: 'demo.noop' });
    assertValidation(await stack.api.request('PATCH', `/v1/schedules/${schedule.id}`, '{"input":{"__proto__":{"x":1}}}'), ['input.__proto__']);
    assertValidation(await stack.api.post('/v1/executions/batch', { executions: [{ task: 'demo.noop', input: { payload: { prototype: 1 } } }] }), [
      'executions[0].input.payload.prototype',
    ]);
    assertValidation(await stack.api.get('/v1/executions?constructor=1'), ['constructor']);
    assertValidation(await stack.api.get('/v1/executions?__proto__=1'), ['__proto__']);
  });

  it('answers a malformed id 404 before it reaches Redis, and a bad percent-escape 400 invalid_path', async () => {
    const schedule = await client.schedules.create({ name: 'events suffix', task: 'demo.noop' });
    const { id } = await client.submit('demo.noop', {});
    for (const [method, path] of [
      ['GET', `/v1/schedules/${schedule.id}:events`],
      ['PATCH', `/v1/schedules/${schedule.id}:events`],
      ['DELETE', `/v1/schedules/${schedule.id}:events`],
      ['POST', `/v1/schedules/${schedule.id}:events/run-now`],
      ['GET', `/v1/schedules/${schedule.id}:events/runs`],
      ['GET', `/v1/executions/${id}:events`],
      ['GET', `/v1/executions/${id}:events/events`],
      ['POST', `/v1/executions/${id}:logs/cancel`],
      ['DELETE', '/v1/executions/not-an-id'],
    ]) {
      const reply = await stack.api.request(method, path, method === 'PATCH' ? {} : undefined);
      assert.equal(reply.status, 404, `${method} ${path}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.code, 'not_found');
    }
    assert.equal((await client.schedules.get(schedule.id)).id, schedule.id, 'the schedule is untouched');

    const badEscape = await stack.api.get('/v1/executions/%E0%A4%A');
    assert.equal(badEscape.status, 400);
    assert.equal(badEscape.body.code, 'invalid_path');
  });

  it('range-checks numbers and filters in queries', async () => {
    const { id } = await client.submit('demo.noop', {});
    assertValidation(await stack.api.get(`/v1/executions/${id}/events?since=1e21`), ['since']);
    assertValidation(await stack.api.get(`/v1/executions/${id}/events?limit=1e21`), ['limit']);
    assertValidation(await stack.api.get('/v1/executions?scheduleId=sch_x:events'), ['scheduleId']);
    assertValidation(await stack.api.get(`/v1/executions?tag=${'t'.repeat(65)}`), ['tag']);
    assertValidation(await stack.api.post('/v1/queues/demo/clean', { status: 'completed', olderThanMs: 1e300 }), ['olderThanMs']);
  });

  it('lists at most 100 details and says how many more there were', async () => {
    const executions = Array.from({ length: 150 }, () => ({ task: 'demo.steps', input: { steps: 0, stepMs: -1 } }));
    const reply = await stack.api.post('/v1/executions/batch', { executions });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.details.length, 100);
    assert.equal(reply.body.detailsOmitted, 200);
    assert.ok(reply.body.message.length < 500, 'the message names a few fields, not all');
  });

  it('refuses idempotency keys of the schedule ticks, by header or body', async () => {
    assertValidation(await submit({ task: 'demo.noop', idempotencyKey: 'sch:anything' }), ['idempotencyKey']);
    assertValidation(await stack.api.request('POST', '/v1/executions', { task: 'demo.noop' }, { 'idempotency-key': 'sch:x:1' }), ['idempotencyKey']);
  });

  it('refuses what could not be told apart once stored: lone surrogates in idempotency keys, commas and end spaces in tags', async () => {
    // Redis would store both keys as U+FFFD; a tag with a comma could never be found by `?tag=`.
    assertValidation(await submit({ task: 'demo.noop', idempotencyKey: 'key-\ud800' }), ['idempotencyKey']);
    assertValidation(await submit({ task: 'demo.noop', tags: ['fine', 'a,b', ' padded'] }), ['tags']);
    assertValidation(await stack.api.get('/v1/executions?tag=%01'), ['tag']);
  });

  it('names the body when it is JSON but no object, for a submission or a schedule patch', async () => {
    for (const body of ['false', '"x"', '[1,2]']) assertValidation(await submit(body), ['(body)']);
    const schedule = await client.schedules.create({ name: 'patched with an array', task: 'demo.noop' });
    assertValidation(await stack.api.request('PATCH', `/v1/schedules/${schedule.id}`, '[1,2]'), ['(body)']);
  });

  it('refuses an Idempotency-Key on a batch instead of ignoring it', async () => {
    const batch = { executions: [{ task: 'demo.noop' }] };
    assertValidation(await stack.api.request('POST', '/v1/executions/batch', batch, { 'idempotency-key': 'once' }), ['Idempotency-Key']);
  });

  it("answers a request line and headers over Node's 16 KiB limit with the error body", async () => {
    const reply = await stack.api.get(`/v1/executions/exec_${'A'.repeat(17_000)}`);
    assert.equal(reply.status, 431);
    assert.equal(reply.body.code, 'headers_too_large');
    assert.equal((await stack.api.get('/health')).status, 200);
  });

  it('says a missing field is required, names a null input, caps runAt and refuses an oversize cron step', async () => {
    const missing = await submit({ task: 'demo.steps', input: { steps: 0 } });
    assert.equal(messageAt(missing, 'input.stepMs'), 'is required');
    assert.equal(messageAt(missing, 'input.steps'), 'must not be less than 1');
    assertValidation(await submit({ task: 'demo.noop', input: null }), ['input']);
    assertValidation(await stack.api.post('/v1/schedules', { name: 'null input', task: 'demo.noop', input: null }), ['input']);
    const farAway = new Date(Date.now() + 400 * 24 * 60 * 60 * 1000).toISOString();
    assert.equal(messageAt(await submit({ task: 'demo.noop', runAt: farAway }), 'runAt'), 'must not be more than 366 days ahead');
    assert.match(messageAt(await stack.api.post('/v1/schedules', { name: 'ninety', task: 'demo.noop', cron: '*/90 * * * *' }), 'cron'), /step of 90/);
  });

  it('lists summaries unless asked to include inputs and results, 50 a page at most, cut at 8 MiB', async () => {
    const big = 'x'.repeat(240 * 1024);
    const submitted = [];
    for (let i = 0; i < 36; i++) submitted.push((await client.submit('demo.noop', { payload: big }, { tags: ['bulky'] })).id);

    const summaries = await stack.api.get('/v1/executions?tag=bulky');
    assert.equal(summaries.status, 200);
    assert.equal(summaries.body.items.length, 36);
    for (const item of summaries.body.items) assert.ok(!('input' in item) && !('result' in item), 'no input or result in a summary');

    assertValidation(await stack.api.get('/v1/executions?include=input&limit=51'), ['limit']);
    assertValidation(await stack.api.get('/v1/executions?include=secrets'), ['include']);
    const runs = await stack.api.get(`/v1/schedules/${(await client.schedules.create({ name: 'runs', task: 'demo.noop' })).id}/runs?include=result&limit=51`);
    assertValidation(runs, ['limit']);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiReply = await stack.api.get(`/v1/executions?tag=bulky&include=input,result&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      assert.ok(Buffer.byteLength(JSON.stringify(page.body.items)) <= 8 * 1024 * 1024 + 256 * 1024, 'a page stops near 8 MiB');
      for (const item of page.body.items) assert.equal(item.input.payload.length, big.length);
      seen.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.ok(seen.length === 36, `every execution once, over several pages: ${seen.length}`);
    assert.deepEqual(seen, [...submitted].reverse());
  });

  it('keeps /health answering while three 1 MiB batches of wide inputs are validated', async () => {
    const wide = Object.fromEntries(Array.from({ length: 78 }, (_, i) => [`field${i}`, i]));
    const body = JSON.stringify({ executions: Array.from({ length: 1000 }, () => ({ task: 'demo.noop', input: { payload: wide } })) });
    assert.ok(body.length > 1000 * 1024 && body.length <= 1024 * 1024, `about 1 MiB: ${body.length}`);
    let worst = 0;
    let sending = true;
    const probe = (async () => {
      while (sending) {
        const started = performance.now();
        assert.equal((await stack.api.get('/health')).status, 200);
        worst = Math.max(worst, performance.now() - started);
      }
    })();
    const replies = await Promise.all([1, 2, 3].map(() => stack.api.post('/v1/executions/batch', body)));
    sending = false;
    await probe;
    assert.deepEqual(replies.map((reply) => reply.status), [202, 202, 202]);
    // A hang check, not a benchmark: before, /health waited for the batches' whole validation.
    assert.ok(worst < 1000, `/health took ${Math.round(worst)} ms`);
  });

  it('logs as ready the address the gateway actually bound', async () => {
    // Bound to every interface, it says so (it used to name loopback, as if it listened there only).
    const gateway = await stack.startGateway({ HOST: '0.0.0.0', CONVEYOR_ADMIN_KEY: 'k'.repeat(32), CONVEYOR_TOKEN_SECRET: 's'.repeat(32), MONITOR_URL: 'http://127.0.0.1:9' });
    try {
      const port = /^http:\/\/0\.0\.0\.0:(\d+)$/.exec(gateway.url!)?.[1];
      assert.ok(port, gateway.url!);
      assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    } finally {
      await gateway.process.stop('SIGTERM');
    }
  });

  describe('on the socket', () => {
    it('acks a subscribe nested 3,000 deep with ok: false, never an exception echoing it', async () => {
      const deep = JSON.parse(nested(3_000, '1', '{"a":', '}'));
      const reply = await ack('subscribe', { execution: deep });
      assert.equal(reply.ok, false);
      assert.equal(reply.code, 'validation_failed');
      assert.ok(reply.message.length < 1000);
      assert.equal((await ack('subscribe', JSON.parse('{"__proto__":{"execution":"x"}}'))).code, 'validation_failed');
      // Events on one socket arrive in order: an exception sent before this ack would be here by now.
      assert.equal((await ack('unsubscribe', { queue: 'demo' })).ok, true);
      assert.deepEqual(socketEvents.filter((type) => type === 'exception'), []);
    });

    it('refuses an out-of-range since as invalid, and answers a malformed id not_found', async () => {
      const { id } = await client.submit('demo.noop', {});
      const outOfRange = await ack('subscribe', { execution: id, since: 1e21 });
      assert.equal(outOfRange.code, 'validation_failed');
      assert.match(outOfRange.message, /since/);
      assert.equal((await ack('subscribe', { schedule: 'sch_01JD0000000000000000000000:events' })).code, 'not_found');
      assert.equal((await ack('subscribe', { execution: `${id}:events` })).code, 'not_found');
      assert.equal((await ack('unsubscribe', { execution: 'nope' })).code, 'not_found');
    });

    it('holds at most 1,000 subscriptions per socket', async () => {
      const { items } = await client.submitBatch(Array.from({ length: 1000 }, () => ({ task: 'demo.noop' as const })));
      const extra = await client.submit('demo.noop', {});
      const busy = io(stack.monitorUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
      try {
        await connected(busy);
        const subscribe = (body: object) => busy.timeout(30_000).emitWithAck('subscribe', body);
        const acks = await Promise.all([...items.slice(0, 999).map(({ id }) => subscribe({ execution: id })), subscribe({ tenant: true })]);
        assert.deepEqual(acks.filter((reply) => !reply.ok).slice(0, 3), [], "the first 1,000 are taken");
        const over = await subscribe({ execution: items[999].id });
        assert.deepEqual(over.ok === false && over.code, 'too_many_subscriptions');
        assert.equal((await subscribe({ execution: items[0].id })).ok, true, 'one it holds may be asked again');
        assert.equal((await busy.timeout(10_000).emitWithAck('unsubscribe', { tenant: true })).ok, true);
        assert.equal((await subscribe({ execution: extra.id })).ok, true, 'room again after an unsubscribe');
      } finally {
        busy.close();
      }
    });
  });
});
