import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExecutionView, ScheduleView } from '@conveyor/contracts';
import { poll, Stack } from '@conveyor/testing';

describe('schedules across several processes', () => {
  let stack: Stack;
  before(async () => {
    stack = await Stack.start({ workers: 3, monitors: 0 });
    await stack.startGateway();
  });
  after(() => stack?.stop());

  const runsOf = async (id: string): Promise<ExecutionView[]> => (await stack.api.get(`/v1/schedules/${id}/runs?limit=500`)).body.items;

  it('registers missing ticks again when a worker starts (a scheduler removed outside Conveyor)', async () => {
    const schedule = (await stack.api.post('/v1/schedules', { name: 'repaired', task: 'demo.noop', every: 60_000 })).body as ScheduleView;
    const removed = await fetch(`${stack.gateways[0].url}/admin/queues/api/queues/${encodeURIComponent('{schedules}')}/job-schedulers/${schedule.id}/remove`, { method: 'PUT' });
    assert.ok(removed.status < 300, `Bull Board answered ${removed.status}`);
    assert.equal((await stack.api.get<ScheduleView>(`/v1/schedules/${schedule.id}`)).body.nextRunAt, null);
    await stack.startWorker();
    const repaired = await poll(async () => (await stack.api.get<ScheduleView>(`/v1/schedules/${schedule.id}`)).body, {
      until: (s) => s.nextRunAt !== null,
      label: 'the ticks registered again',
    });
    assert.ok(Date.parse(repaired.nextRunAt!) > Date.now());
    await stack.api.delete(`/v1/schedules/${schedule.id}`);
  });

  it('fires exactly one execution per tick with two gateways and three workers, across a restart of every process', async () => {
    const [first, second] = stack.gateways;
    const created = await fetch(`${second.url}/v1/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'twenty ticks', task: 'demo.noop', every: 1000, limit: 20 }),
    });
    const schedule = (await created.json()) as ScheduleView;
    assert.equal(created.status, 201);

    await poll(() => runsOf(schedule.id), { until: (runs) => runs.length >= 6, label: 'six runs', timeoutMs: 20_000 });
    // Every process goes away and comes back: the definition and its ticks live in Redis.
    await Promise.all([first, second, ...stack.workers].map((service) => service.process.stop('SIGTERM')));
    await Promise.all([stack.startGateway(), stack.startGateway(), stack.startWorker(), stack.startWorker(), stack.startWorker()]);

    const finished = await poll(async () => (await stack.api.get<ScheduleView>(`/v1/schedules/${schedule.id}`)).body, {
      until: (s) => s.state === 'finished',
      label: 'all twenty ticks',
      timeoutMs: 40_000,
    });
    assert.equal(finished.runCount, 20);
    const runs = await runsOf(schedule.id);
    assert.equal(runs.length, 20);
    const ticks = runs.map((run) => run.scheduledFor);
    assert.equal(new Set(ticks).size, 20, 'twenty distinct tick times');
    const sorted = ticks.map((t) => Date.parse(t!)).sort((a, b) => a - b);
    assert.ok(sorted.every((t, i) => i === 0 || (t - sorted[i - 1]) % 1000 === 0), 'on the schedule’s slots');
  });
});
