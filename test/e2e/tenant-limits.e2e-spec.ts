import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConveyorEvent, TenantLimits, TenantView } from '@conveyor/contracts';
import { RedisKeys } from '@conveyor/redis';
import { dayCounterTtlSeconds, secondsToNextUtcDay, utcDay } from '@conveyor/tenants';
import { ApiClient, EventLog, stackPerSuite, submitAndWatch, type ApiReply } from '@conveyor/testing';

/** The `RateLimit-*` headers of an answer, as numbers (`null` when absent). */
function rateLimitOf(reply: ApiReply): { limit: number | null; remaining: number | null; reset: number | null } {
  const read = (name: string) => (reply.headers.has(name) ? Number(reply.headers.get(name)) : null);
  return { limit: read('ratelimit-limit'), remaining: read('ratelimit-remaining'), reset: read('ratelimit-reset') };
}

const noop = { task: 'demo.noop', input: {} };

describe('tenant limits', () => {
  const suite = stackPerSuite();

  /**
   * REST in one tenant. A test takes a tenant of its own, so that it never meets another's counters
   * (two share `default`, the tenant the client acts in). Auth is off: the caller is the admin of
   * `default` and names any other with `?tenant=`.
   */
  const tenant = (name: string) => ({
    setLimits: async (change: { [K in keyof TenantLimits]?: number | null }): Promise<TenantView> => {
      const reply = await suite.stack.api.put<TenantView>(`/v1/tenants/${name}/limits`, change);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      return reply.body;
    },
    usage: async () => (await suite.stack.api.get<TenantView>(`/v1/tenants/${name}`)).body.usage,
    submit: (submission: Record<string, unknown> = {}) => suite.stack.api.post(`/v1/executions?tenant=${name}`, { ...noop, ...submission }),
    batch: (size: number) => suite.stack.api.post(`/v1/executions/batch?tenant=${name}`, { executions: Array.from({ length: size }, () => noop) }),
    cancel: (...replies: ApiReply[]) => Promise.all(replies.map((reply) => suite.stack.api.post(`/v1/executions/${reply.body.id}/cancel?tenant=${name}`))),
  });

  it('stores limits as an admin sets, keeps and clears them, and shows them with the usage', async () => {
    const { setLimits } = tenant('settings');
    assert.deepEqual((await suite.stack.api.get('/v1/tenants/settings')).body, { tenant: 'settings', limits: {}, usage: { today: 0, queued: 0, running: 0 } });
    assert.deepEqual((await setLimits({ submitsPerSecond: 5, maxRunning: 2 })).limits, { submitsPerSecond: 5, maxRunning: 2 });
    assert.deepEqual((await setLimits({ executionsPerDay: 100 })).limits, { submitsPerSecond: 5, maxRunning: 2, executionsPerDay: 100 }, 'an absent limit stays');
    const cleared = await setLimits({ submitsPerSecond: null, maxRunning: null });
    assert.deepEqual(cleared, { tenant: 'settings', limits: { executionsPerDay: 100 }, usage: { today: 0, queued: 0, running: 0 } });

    const refused = await suite.stack.api.put('/v1/tenants/settings/limits', { maxQueued: 0, burst: 3 });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.details.map((d: { path: string }) => d.path).sort(), ['burst', 'maxQueued']);
    const malformed = await suite.stack.api.get('/v1/tenants/Not_A_Tenant');
    assert.deepEqual([malformed.status, malformed.body.code, malformed.body.details[0].path], [400, 'validation_failed', 'tenant']);
  });

  it('counts new executions today, and the waiting and running ones from the status counters', async () => {
    // Tenant `default`, the one the client acts in with auth off, to watch the run start.
    const { submit, usage, cancel } = tenant('default');
    const waiting = [await submit({ delayMs: 60_000 }), await submit({ delayMs: 60_000 })];
    const long = await submitAndWatch(suite.client, 'demo.steps', { steps: 1, stepMs: 60_000 });
    await long.waitFor('execution.started');
    assert.deepEqual(await usage(), { today: 3, queued: 2, running: 1 });

    await cancel(...waiting);
    await suite.client.cancel(long.executionId);
    await long.done;
    assert.deepEqual(await usage(), { today: 3, queued: 0, running: 0 });
  });

  it('keeps the day’s count for two days, whether a limit on submissions checks it or not', async () => {
    const redis = suite.stack.redis.connect();
    try {
      const keys = new RedisKeys(suite.stack.prefix);
      const limited = tenant('counted-limited');
      await limited.setLimits({ executionsPerDay: 100 });
      for (const [name, { submit, batch, usage }] of [['counted', tenant('counted')], ['counted-limited', limited]] as const) {
        const day = keys.tenantExecutionsOn(name, utcDay(Date.now()));
        assert.equal((await submit()).status, 202);
        assert.equal((await batch(2)).status, 202);
        assert.equal((await usage()).today, 3, name);
        const ttl = await redis.ttl(day);
        assert.ok(ttl > dayCounterTtlSeconds - 60 && ttl <= dayCounterTtlSeconds, `${name}: the day’s count lives ${ttl} s`);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('admits exactly submitsPerSecond in a second, then answers 429 rate_limited; null clears the limit and its headers', async () => {
    const { setLimits, submit } = tenant('per-second');
    await setLimits({ submitsPerSecond: 3 });
    for (const remaining of [2, 1, 0]) {
      const accepted = await submit();
      assert.equal(accepted.status, 202);
      assert.deepEqual(rateLimitOf(accepted), { limit: 3, remaining, reset: 1 });
    }
    const refused = await submit();
    assert.deepEqual([refused.status, refused.body.code, refused.headers.get('retry-after')], [429, 'rate_limited', '1']);
    assert.deepEqual(rateLimitOf(refused), { limit: 3, remaining: 0, reset: 1 });

    await setLimits({ submitsPerSecond: null });
    const unlimited = await submit();
    assert.equal(unlimited.status, 202);
    assert.deepEqual(rateLimitOf(unlimited), { limit: null, remaining: null, reset: null });
  });

  it('refuses past executionsPerDay with 429 quota_exceeded until the next UTC midnight', async () => {
    const { setLimits, submit, usage } = tenant('per-day');
    await setLimits({ executionsPerDay: 2 });
    for (const remaining of [1, 0]) {
      const accepted = await submit();
      assert.deepEqual([accepted.status, rateLimitOf(accepted).remaining], [202, remaining]);
    }
    const refused = await submit();
    assert.deepEqual([refused.status, refused.body.code], [429, 'quota_exceeded']);
    const untilMidnight = secondsToNextUtcDay(Date.now());
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Math.abs(retryAfter - untilMidnight) <= 2, `Retry-After ${retryAfter}, ${untilMidnight} s to midnight`);
    assert.deepEqual(rateLimitOf(refused), { limit: 2, remaining: 0, reset: retryAfter });
    assert.equal((await usage()).today, 2, 'the refused one is not counted');
  });

  it('refuses past maxQueued (queued or scheduled) and admits again once one has left', async () => {
    const { setLimits, submit, cancel } = tenant('max-queued');
    await setLimits({ maxQueued: 2 });
    const waiting = [await submit({ delayMs: 60_000 }), await submit({ delayMs: 60_000 })];
    assert.deepEqual(waiting.map((reply) => [reply.status, rateLimitOf(reply).remaining]), [[202, 1], [202, 0]]);
    const refused = await submit({ delayMs: 60_000 });
    assert.deepEqual([refused.status, refused.body.code, refused.headers.get('retry-after')], [429, 'quota_exceeded', '1']);
    assert.deepEqual(rateLimitOf(refused), { limit: 2, remaining: 0, reset: 1 });

    await cancel(waiting[0]);
    const admitted = await submit({ delayMs: 60_000 });
    assert.equal(admitted.status, 202);
    await cancel(waiting[1], admitted);
  });

  it('admits a batch all or none, so a refused one counts nothing; one larger than a limit is 400 batch_exceeds_limit', async () => {
    const perSecond = tenant('batch-per-second');
    await perSecond.setLimits({ submitsPerSecond: 5 });
    assert.deepEqual(rateLimitOf(await perSecond.batch(3)), { limit: 5, remaining: 2, reset: 1 });
    const rateLimited = await perSecond.batch(3);
    assert.deepEqual([rateLimited.status, rateLimited.body.code], [429, 'rate_limited']);
    // Had the refused batch taken 3 of the second's 5, these 2 would be refused too.
    const fits = await perSecond.batch(2);
    assert.deepEqual([fits.status, fits.body.items.length, rateLimitOf(fits).remaining], [202, 2, 0]);
    const tooLarge = await perSecond.batch(6);
    assert.deepEqual([tooLarge.status, tooLarge.body.code], [400, 'batch_exceeds_limit']);

    const perDay = tenant('batch-per-day');
    await perDay.setLimits({ executionsPerDay: 5 });
    assert.equal((await perDay.batch(3)).status, 202);
    const overQuota = await perDay.batch(3);
    assert.deepEqual([overQuota.status, overQuota.body.code, rateLimitOf(overQuota).remaining], [429, 'quota_exceeded', 2]);
    assert.equal((await perDay.usage()).today, 3);
    assert.equal((await perDay.batch(2)).status, 202);
    assert.equal((await perDay.usage()).today, 5);
  });

  it('does not count an idempotent repeat, which is answered even at the limit', async () => {
    const { setLimits, submit, usage } = tenant('repeats');
    await setLimits({ executionsPerDay: 2 });
    const first = await submit({ idempotencyKey: 'once' });
    assert.deepEqual([first.status, rateLimitOf(first).remaining], [202, 1]);
    const repeat = await submit({ idempotencyKey: 'once' });
    assert.deepEqual([repeat.status, repeat.body.id, rateLimitOf(repeat).remaining], [200, first.body.id, 1]);
    assert.equal((await submit()).status, 202);
    const atLimit = await submit({ idempotencyKey: 'once' });
    assert.deepEqual([atLimit.status, atLimit.body.id, rateLimitOf(atLimit).remaining], [200, first.body.id, 0]);
    assert.equal((await submit()).status, 429);
    assert.equal((await usage()).today, 2);
  });

  it('skips a schedule tick over quota (schedule.skipped, reason quota_exceeded), and refuses run-now with the 429 of a submit', async () => {
    // Tenant `default`, the one the client acts in with auth off, to follow the schedule's events.
    const { setLimits, submit, usage } = tenant('default');
    assert.equal((await submit()).status, 202);
    const { today } = await usage();
    await setLimits({ executionsPerDay: today });
    // Further off than a worker trusts cached limits (half a second), so that its tick sees this one.
    const at = new Date(Date.now() + 1500).toISOString();
    const schedule = await suite.client.schedules.create({ name: 'over quota', task: 'demo.noop', at });

    // The schedule's own events, from its first.
    const events = new EventLog();
    const connection = suite.client.connection();
    const stopListening = connection.onEvent((event) => event.scheduleId === schedule.id && events.onEvent(event));
    try {
      await new Promise((resolve, reject) => connection.subscribe({ schedule: schedule.id, since: 0 }, (ack) => (ack instanceof Error ? reject(ack) : resolve(ack))));
      const skipped: ConveyorEvent<'schedule.skipped'> = await events.waitFor('schedule.skipped');
      assert.deepEqual(skipped.data, { scheduledFor: at, reason: 'quota_exceeded' });
      await events.waitFor('schedule.updated', (event) => event.data.schedule.state === 'finished');
    } finally {
      stopListening();
    }
    const after = await suite.client.schedules.get(schedule.id);
    assert.deepEqual([after.state, after.runCount, after.nextRunAt], ['finished', 0, null], 'its one tick is spent');
    assert.equal((await suite.client.schedules.runs(schedule.id)).items.length, 0);

    const runNow = await suite.stack.api.post(`/v1/schedules/${schedule.id}/run-now`);
    assert.deepEqual([runNow.status, runNow.body.code], [429, 'quota_exceeded']);
    const retryAfter = Number(runNow.headers.get('retry-after'));
    assert.ok(retryAfter >= 1);
    assert.deepEqual(rateLimitOf(runNow), { limit: today, remaining: 0, reset: retryAfter });
    assert.equal((await usage()).today, today);
  });
});

describe('tenant limits with keys', () => {
  const adminKey = 'admin-key-'.padEnd(32, 'a');
  const acmeKey = 'acme-key-'.padEnd(32, 'x');
  const globexKey = 'globex-key-'.padEnd(32, 'y');
  const suite = stackPerSuite({
    workers: 0,
    monitors: 0,
    env: { CONVEYOR_ADMIN_KEY: adminKey, CONVEYOR_API_KEYS: `acme:${acmeKey},globex:${globexKey}`, CONVEYOR_TOKEN_SECRET: 's'.repeat(32) },
  });
  const as = (key: string) => new ApiClient(suite.stack.gatewayUrl, { authorization: `Bearer ${key}` });

  it("lets a tenant read its own usage but not set limits nor read another's; one tenant's limit leaves another alone", async () => {
    const [admin, acme, globex] = [as(adminKey), as(acmeKey), as(globexKey)];
    const forbidden = await acme.put('/v1/tenants/acme/limits', { submitsPerSecond: 100 });
    assert.deepEqual([forbidden.status, forbidden.body.code], [403, 'forbidden']);
    assert.equal((await admin.put('/v1/tenants/acme/limits', { submitsPerSecond: 1 })).status, 200);

    const accepted = await acme.post('/v1/executions', noop);
    assert.deepEqual([accepted.status, rateLimitOf(accepted)], [202, { limit: 1, remaining: 0, reset: 1 }]);
    assert.equal((await acme.post('/v1/executions', noop)).status, 429);
    for (const reply of [await globex.post('/v1/executions', noop), await globex.post('/v1/executions', noop)]) {
      assert.deepEqual([reply.status, rateLimitOf(reply).limit], [202, null]);
    }

    const own = await acme.get<TenantView>('/v1/tenants/acme');
    assert.deepEqual(own.body, { tenant: 'acme', limits: { submitsPerSecond: 1 }, usage: { today: 1, queued: 1, running: 0 } });
    const other = await acme.get('/v1/tenants/globex');
    assert.deepEqual([other.status, other.body.code], [404, 'not_found']);
    assert.deepEqual((await admin.get<TenantView>('/v1/tenants/globex')).body.usage, { today: 2, queued: 2, running: 0 });
    assert.equal((await suite.stack.api.get('/v1/tenants/acme')).status, 401);
  });
});
