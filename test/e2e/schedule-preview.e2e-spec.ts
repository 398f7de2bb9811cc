import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConveyorClient } from '@conveyor/client';
import { stackCredentials, stackPerSuite } from '@conveyor/testing';

// POST /v1/schedules/preview: the times the scheduler would fire, and the refusals a schedule with
// that trigger would get. Nothing runs, so the stack has neither worker nor monitor.
describe('schedule preview (POST /v1/schedules/preview)', () => {
  const credentials = stackCredentials(['acme']);
  const suite = stackPerSuite({ workers: 0, monitors: 0, env: credentials.env });
  const acme = () => suite.stack.api.as(credentials.tenants.acme);
  const preview = (body: unknown) => acme().post('/v1/schedules/preview', body);
  const sdk = () => new ConveyorClient({ apiUrl: suite.stack.gatewayUrl, token: credentials.tenants.acme });
  const detailsOf = (body: { details: { path: string; message: string }[] }) => Object.fromEntries(body.details.map((d) => [d.path, d.message]));

  it('lists a cron’s next times in its zone, through both DST changes', async () => {
    const berlin = await preview({ cron: '30 2 * * *', tz: 'Europe/Berlin', startAt: '2027-10-30T00:00:00.000Z', count: 3 });
    assert.equal(berlin.status, 200);
    // 02:30 comes twice on 2027-10-31 (CEST, then CET): it fires once, then an hour later in UTC.
    assert.deepEqual(berlin.body.items, ['2027-10-30T00:30:00.000Z', '2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z']);

    const newYork = await preview({ cron: '0 9 * * *', tz: 'America/New_York', startAt: '2027-03-13T00:00:00.000Z', count: 3 });
    assert.deepEqual(newYork.body.items, ['2027-03-13T14:00:00.000Z', '2027-03-14T13:00:00.000Z', '2027-03-15T13:00:00.000Z']);
  });

  it('lists five times by default, from now, in UTC without a zone', async () => {
    const before = Date.now();
    const { items } = await sdk().schedules.preview({ cron: '*/5 * * * *' });
    assert.equal(items.length, 5);
    const times = items.map(Date.parse);
    assert.ok(times[0] > before && times[0] <= before + 5 * 60_000, `the first within five minutes: ${items[0]}`);
    times.slice(1).forEach((time, i) => assert.equal(time - times[i], 5 * 60_000));
    assert.ok(items.every((item) => /^\d{4}-\d\d-\d\dT\d\d:[0-5][05]:00\.000Z$/.test(item)), items.join());
  });

  it('lists `every` one interval on, or from startAt', async () => {
    const before = Date.now();
    const { items } = await sdk().schedules.preview({ every: 60_000, count: 3 });
    const times = items.map(Date.parse);
    assert.ok(times[0] >= before + 60_000 && times[0] <= Date.now() + 60_000, `one interval on: ${items[0]}`);
    assert.deepEqual([times[1] - times[0], times[2] - times[1]], [60_000, 60_000]);

    const from = await sdk().schedules.preview({ every: 3_600_000, startAt: '2027-01-01T00:00:00.000Z', count: 2 });
    assert.deepEqual(from.items, ['2027-01-01T00:00:00.000Z', '2027-01-01T01:00:00.000Z']);
  });

  it('refuses what a schedule’s create refuses, naming each field', async () => {
    const bad = await preview({ cron: '61 * * * *', tz: 'Nowhere/Land' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_failed');
    assert.match(detailsOf(bad.body).cron, /^is not a valid cron expression/);
    assert.equal(detailsOf(bad.body).tz, 'is not a known IANA time zone');

    const create = await acme().post('/v1/schedules', { name: 'bad', task: 'demo.noop', cron: '61 * * * *', tz: 'Nowhere/Land' });
    assert.deepEqual(create.body.details, bad.body.details, 'the same details as a create');

    const fields = await preview({ cron: '* * *', every: 10, count: 101, extra: 1 });
    assert.deepEqual(detailsOf(fields.body), {
      every: 'must not be less than 1000',
      count: 'must not be greater than 100',
      extra: 'should not exist',
    });
    assert.deepEqual(detailsOf((await preview({ cron: '* * *' })).body), { cron: 'must have 5 or 6 fields, not 3' });
    assert.deepEqual(detailsOf((await preview({ cron: '* * * * *', every: 1000 })).body), { every: 'cannot be combined with cron: give one trigger' });
    assert.deepEqual(detailsOf((await preview({ tz: 'UTC' })).body), { cron: 'or every is required: the trigger to preview' });
    assert.equal((await preview([])).status, 400);
  });

  it('answers a read-only key: a preview changes nothing', async () => {
    const key = await suite.stack.api.as(credentials.admin).post('/v1/api-keys', { tenant: 'acme', name: 'viewer', role: 'read' });
    const reply = await suite.stack.api.as(key.body.key).post('/v1/schedules/preview', { every: 1000, count: 1 });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.items.length, 1);
  });
});
