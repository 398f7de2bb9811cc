import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConveyorClient } from '@conveyor/client';
import { scheduleQueue } from '@conveyor/contracts';
import { RedisKeys } from '@conveyor/redis';
import { poll, Stack } from '@conveyor/testing';

describe('schedules across several processes', () => {
  let stack: Stack;
  before(async () => {
    stack = await Stack.start({ workers: 3, monitors: 0 });
    await stack.startGateway();
  });
  after(() => stack?.stop());

  // Without a monitor, the clients only make HTTP requests: they hold no connection to close.

  it('registers missing ticks again when a worker starts, or within seconds (a scheduler removed in Bull Board)', async () => {
    const client = stack.client();
    const schedule = await client.schedules.create({ name: 'repaired', task: 'demo.noop', every: 60_000 });
    const removed = await fetch(`${stack.gateways[0].url}/admin/queues/api/queues/${encodeURIComponent('{schedules}')}/job-schedulers/${schedule.id}/remove`, { method: 'PUT' });
    assert.ok(removed.status < 300, `Bull Board answered ${removed.status}`);
    assert.equal((await client.schedules.get(schedule.id)).nextRunAt, null);
    // A schedule changed in the last 10 s is left to its change: this one looks unchanged for a minute.
    const redis = stack.redis.connect();
    await redis.hset(new RedisKeys(stack.prefix).schedule(scheduleQueue, schedule.id), 'updatedAt', String(Date.now() - 60_000)).finally(() => redis.disconnect());
    await stack.startWorker();
    const repaired = await poll(() => client.schedules.get(schedule.id), { until: (s) => s.nextRunAt !== null, label: 'the ticks registered again' });
    assert.ok(Date.parse(repaired.nextRunAt!) > Date.now());
    await client.schedules.delete(schedule.id);
  });

  it('fires exactly one execution per tick with two gateways and three workers, across a restart of every process', async () => {
    const [first, second] = stack.gateways;
    const onSecond = new ConveyorClient({ apiUrl: second.url! });
    const schedule = await onSecond.schedules.create({ name: 'twenty ticks', task: 'demo.noop', every: 1000, limit: 20 });

    await poll(() => onSecond.schedules.runs(schedule.id), { until: (runs) => runs.items.length >= 6, label: 'six runs', timeoutMs: 20_000 });
    // Every process goes away and comes back: the definition and its ticks live in Redis.
    await Promise.all([first, second, ...stack.workers].map((service) => service.process.stop('SIGTERM')));
    await Promise.all([stack.startGateway(), stack.startGateway(), stack.startWorker(), stack.startWorker(), stack.startWorker()]);

    const restarted = stack.client();
    const finished = await poll(() => restarted.schedules.get(schedule.id), { until: (s) => s.state === 'finished', label: 'all twenty ticks', timeoutMs: 40_000 });
    assert.equal(finished.runCount, 20);
    const { items: runs } = await restarted.schedules.runs(schedule.id);
    assert.equal(runs.length, 20);
    const ticks = runs.map((run) => run.scheduledFor);
    assert.equal(new Set(ticks).size, 20, 'twenty distinct tick times');
    const sorted = ticks.map((t) => Date.parse(t!)).sort((a, b) => a - b);
    assert.ok(sorted.every((t, i) => i === 0 || (t - sorted[i - 1]) % 1000 === 0), 'on the schedule’s slots');
  });
});
