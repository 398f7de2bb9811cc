import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorClient, type SubmitOptions } from '@conveyor/client';
import type { DemoStepsInput, QueueStatsMinute, QueueStatsView } from '@conveyor/contracts';
import { ApiClient, stackCredentials, Stack } from '@conveyor/testing';

describe('queue stats (GET /v1/queues/:name/stats)', () => {
  const credentials = stackCredentials(['acme', 'globex']);
  let stack: Stack;
  let admin: ApiClient;
  let acme: ConveyorClient;
  let globex: ConveyorClient;

  before(async () => {
    stack = await Stack.start({ env: { ...credentials.env, WORKER_CONCURRENCY: '20' } });
    admin = stack.api.as(credentials.admin);
    const client = (token: string) => new ConveyorClient({ apiUrl: stack.gatewayUrl, monitorUrl: stack.monitorUrl, token });
    acme = client(credentials.tenants.acme);
    globex = client(credentials.tenants.globex);
  });
  after(async () => {
    acme?.close();
    globex?.close();
    await stack?.stop();
  });

  const quick: DemoStepsInput = { steps: 1, stepMs: 10 };
  const submitAll = (client: ConveyorClient, runs: { input: DemoStepsInput; options: SubmitOptions }[]) =>
    Promise.all(runs.map(({ input, options }) => client.submit('demo.steps', input, options)));
  /** Waits until every one has ended, returning their final states. */
  const endAll = (client: ConveyorClient, submitted: { id: string }[]) => Promise.all(submitted.map(({ id }) => client.watch(id).done));
  const totals = (minutes: QueueStatsMinute[]) => ({
    completed: minutes.reduce((sum, m) => sum + m.completed, 0),
    failed: minutes.reduce((sum, m) => sum + m.failed, 0),
    started: minutes.reduce((sum, m) => sum + m.started, 0),
  });
  /** The minutes with starts (runs may straddle a minute's end). */
  const withStarts = (stats: QueueStatsView) => stats.minutes.filter((m) => m.started > 0);
  /** Within the histogram's resolution: a percentile is its bucket's middle, within 9 % of the wait. */
  const near = (measured: number | null, lowest: number, highest: number) => measured !== null && measured >= lowest * 0.91 && measured <= highest * 1.1;

  it('counts endings and the waits to start per minute, per tenant, with p50 and p95', async () => {
    // acme's runs wait in the paused queue: one for 4 s, then ten for 1 s with one that fails for good and one that
    // fails once, then completes. The sleeps are the waits measured.
    assert.equal((await admin.post('/v1/queues/demo/pause')).status, 200);
    const first = await submitAll(acme, [{ input: quick, options: {} }]);
    await sleep(3000);
    const rest = await submitAll(acme, [
      ...Array.from({ length: 10 }, () => ({ input: quick, options: {} })),
      { input: { ...quick, failTimes: 1 }, options: { attempts: 1 } },
      { input: { ...quick, failTimes: 1 }, options: { attempts: 2, backoff: { type: 'fixed', delayMs: 100 } } },
    ]);
    await sleep(1000);
    assert.equal((await admin.post('/v1/queues/demo/resume')).status, 200);
    const acmeEnded = await endAll(acme, [...first, ...rest]);
    // globex's runs are held back 2 s, then start at once: a delay is not a wait.
    const globexEnded = await endAll(globex, await submitAll(globex, [{ input: quick, options: { delayMs: 2000 } }, { input: quick, options: { runAt: new Date(Date.now() + 2000).toISOString() } }]));
    assert.equal(acmeEnded.filter((e) => e.status === 'failed').length, 1);
    assert.ok(globexEnded.every((e) => e.status === 'completed'));

    const ofAcme = await acme.queues.stats('demo');
    assert.equal(ofAcme.queue, 'demo');
    assert.equal(ofAcme.tenant, 'acme');
    assert.equal(ofAcme.minutes.length, 60);
    assert.equal(Date.parse(ofAcme.minutes[59].at), Math.floor(Date.parse(ofAcme.to) / 60_000) * 60_000, 'the last minute is the current one');
    assert.equal(ofAcme.from, ofAcme.minutes[0].at);
    // Every execution's wait counts once, at its first start (the retried one's second attempt adds none).
    assert.deepEqual(totals(ofAcme.minutes), { completed: 12, failed: 1, started: 13 });
    const acmeMinutes = withStarts(ofAcme);
    // Twelve of thirteen waited about a second: the median of any minute holding some of them; one waited 4 s: the p95 of its minute.
    assert.ok(near(Math.min(...acmeMinutes.map((m) => m.waitP50Ms!)), 1000, 1500), JSON.stringify(acmeMinutes));
    assert.ok(near(Math.max(...acmeMinutes.map((m) => m.waitP95Ms!)), 4000, 4500), JSON.stringify(acmeMinutes));
    assert.ok(ofAcme.minutes.filter((m) => m.started === 0).every((m) => m.waitP50Ms === null && m.waitP95Ms === null));

    // globex sees its own two runs only, which did not wait.
    const ofGlobex = await globex.queues.stats('demo');
    assert.equal(ofGlobex.tenant, 'globex');
    assert.deepEqual(totals(ofGlobex.minutes), { completed: 2, failed: 0, started: 2 });
    assert.ok(withStarts(ofGlobex).every((m) => m.waitP95Ms! < 900), JSON.stringify(withStarts(ofGlobex)));

    // An admin sees every tenant's together, or one tenant's by name.
    const all = await admin.get('/v1/queues/demo/stats');
    assert.equal(all.status, 200);
    assert.equal(all.body.tenant, null);
    assert.deepEqual(totals(all.body.minutes), { completed: 14, failed: 1, started: 15 });
    const named = await admin.get('/v1/queues/demo/stats?tenant=globex');
    assert.deepEqual(totals(named.body.minutes), totals(ofGlobex.minutes));
    // Nothing ran on the other queue.
    assert.deepEqual(totals((await globex.queues.stats('http')).minutes), { completed: 0, failed: 0, started: 0 });
  });

  it('answers 404 for an unknown queue and 401 without a key, as the other queue routes', async () => {
    const unknown = await admin.get('/v1/queues/nope/stats');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'not_found');
    assert.equal((await stack.api.get('/v1/queues/demo/stats')).status, 401);
    assert.equal((await admin.get('/v1/queues/demo/stats?tenant=Not_A_Name')).status, 400);
  });
});
