import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent, ScheduleView } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { waitForRedis } from '@conveyor/redis';
import { createSchedulesCore, schedulerTickId } from '@conveyor/schedules';
import { createTenantsCore } from '@conveyor/tenants';
import { EventLog, ExecutionWatcher, poll, Stack } from '@conveyor/testing';

describe('schedules', () => {
  let stack: Stack;
  let client: ConveyorClient;
  before(async () => {
    stack = await Stack.start();
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  const create = (definition: Record<string, unknown>) => client.schedules.create(definition);
  const read = (id: string) => client.schedules.get(id);
  const runsOf = async (id: string) => (await client.schedules.runs(id, { include: ['input'] })).items;

  it('fires an `every` schedule on time, once per tick, until its limit', async () => {
    const created = Date.now();
    const schedule = await create({ name: 'every second', task: 'demo.noop', input: { payload: 'tick' }, every: 1000, limit: 3 });
    assert.equal(schedule.state, 'active');
    assert.ok(schedule.nextRunAt && Date.parse(schedule.nextRunAt) >= created + 900, `first tick one interval on: ${schedule.nextRunAt}`);

    const finished = await poll(() => read(schedule.id), { until: (s) => s.state === 'finished', label: 'the schedule to finish', timeoutMs: 15_000 });
    assert.equal(finished.runCount, 3);
    assert.equal(finished.nextRunAt, null);
    const runs = await runsOf(schedule.id);
    assert.equal(runs.length, 3);
    const ticks = runs.map((run) => Date.parse(run.scheduledFor!)).sort((a, b) => a - b);
    assert.deepEqual([ticks[1] - ticks[0], ticks[2] - ticks[1]], [1000, 1000]);
    for (const run of runs) {
      assert.equal(run.scheduleId, schedule.id);
      assert.deepEqual(run.input, { payload: 'tick' });
    }
    const firstPage = await client.schedules.runs(schedule.id, { limit: 2 });
    const secondPage = await client.schedules.runs(schedule.id, { limit: 2, cursor: firstPage.nextCursor! });
    assert.deepEqual([...firstPage.items, ...secondPage.items].map((run) => run.id), runs.map((run) => run.id), 'the runs page by page');
    assert.equal(secondPage.nextCursor, null);
  });

  /** The schedules core in this process, on the stack's Redis: ticks handled as a worker would. */
  const withCore = async (use: (core: ReturnType<typeof createSchedulesCore>) => Promise<void>) => {
    const redis = stack.redis.connect();
    try {
      await waitForRedis(redis, 10_000);
      const executions = createExecutionsCore(redis, stack.prefix);
      await use(createSchedulesCore(redis, executions, createTenantsCore(redis, executions).quota));
    } finally {
      redis.disconnect();
    }
  };

  it('fires no more runs than its limit when late ticks are handled at once', async () => {
    // Overlap allowed: whether the previous run has ended yet is not the subject here.
    const schedule = await create({ name: 'late ticks', task: 'demo.noop', every: 3_600_000, limit: 2, overlap: 'allow' });
    // Three late ticks handled together: each is checked against the limit before it fires.
    await withCore(async ({ ticks }) => {
      const due = Date.now();
      const fired = await Promise.all([0, 1, 2].map((n) => ticks.fire(schedule.id, due + n, false)));
      assert.equal(fired.filter((execution) => execution !== null).length, 2);
    });
    const after = await read(schedule.id);
    assert.deepEqual([after.runCount, after.state], [2, 'finished']);
    assert.equal((await runsOf(schedule.id)).length, 2);
  });

  it('counts a tick once when it runs again, also after a worker died between its claim and its run', async () => {
    const schedule = await create({ name: 'ticks run again', task: 'demo.noop', every: 3_600_000, limit: 5, overlap: 'allow' });
    await withCore(async ({ ticks, scheduleStore }) => {
      const due = Date.now();
      assert.ok(await ticks.fire(schedule.id, due, false));
      assert.equal(await ticks.fire(schedule.id, due, false), null, 'the same tick again fires nothing');
      // A worker claimed the next tick's run and died: the tick, run again, goes on with that claim.
      assert.ok(await scheduleStore.claimRun(schedule.id, due + 1, 5));
      assert.ok(await ticks.fire(schedule.id, due + 1, false));
    });
    const after = await read(schedule.id);
    assert.equal(after.runCount, 2);
    assert.equal((await runsOf(schedule.id)).length, 2);
  });

  it('runs a schedule by hand through the tick path, without counting toward its limit', async () => {
    const schedule = await create({ name: 'by hand', task: 'demo.noop' });
    assert.equal(schedule.nextRunAt, null);
    const ran = await client.schedules.runNow(schedule.id);
    assert.equal(ran.runCount, 0);
    assert.ok(ran.lastRunAt);
    const runs = await runsOf(schedule.id);
    assert.equal(runs.length, 1);
    assert.equal((await client.watch(runs[0].id).done).status, 'completed');
  });

  it('stops firing when disabled and resumes without a burst when enabled', async () => {
    const schedule = await create({ name: 'toggled', task: 'demo.noop', every: 1000 });
    await poll(() => runsOf(schedule.id), { until: (runs) => runs.length >= 1, label: 'a first run' });
    const disabled = await client.schedules.disable(schedule.id);
    assert.equal(disabled.state, 'disabled');
    assert.equal(disabled.enabled, false);
    const before = (await runsOf(schedule.id)).length;
    await poll(async () => Date.now(), { until: (now) => now > Date.parse(disabled.updatedAt) + 2500, label: 'two missed ticks', intervalMs: 100 });
    assert.equal((await runsOf(schedule.id)).length, before, 'nothing fired while disabled');

    const enabledAt = Date.now();
    const enabled = await client.schedules.enable(schedule.id);
    assert.equal(enabled.state, 'active');
    const next = await poll(() => runsOf(schedule.id), { until: (runs) => runs.length === before + 1, label: 'the next run' });
    assert.ok(Date.parse(next[0].scheduledFor!) > enabledAt, 'the first run after enabling is a future slot, not a missed one');
    await client.schedules.disable(schedule.id);
  });

  it('skips a tick while the previous run is still going (overlap skip)', async () => {
    // The client follows the tenant's room, where schedule events come too.
    const tenant = new EventLog();
    const follow = client.follow({ tenant: true }, tenant);
    try {
      await follow.joined;
      const schedule = await create({ name: 'slow', task: 'demo.steps', input: { steps: 1, stepMs: 2500 }, every: 1000 });
      const runs = await poll(() => runsOf(schedule.id), { until: (r) => r.length >= 2, label: 'two runs', timeoutMs: 15_000 });
      await client.schedules.disable(schedule.id);
      const starts = runs.map((r) => Date.parse(r.scheduledFor!)).sort((a, b) => a - b);
      assert.ok(starts[1] - starts[0] >= 2000, `the ticks in between were skipped (${starts[1] - starts[0]} ms apart)`);
      const skipped = tenant.events.filter((e): e is ConveyorEvent<'schedule.skipped'> => e.type === 'schedule.skipped' && e.scheduleId === schedule.id);
      assert.ok(skipped.length >= 1);
      const first = [...runs].sort((a, b) => a.scheduledFor!.localeCompare(b.scheduledFor!))[0];
      assert.equal(skipped[0].data.blockingExecutionId, first.id);
    } finally {
      follow.stop();
    }
  });

  it('pauses itself after N failed runs in a row, and enable clears the pause', async () => {
    const schedule = await create({
      name: 'always failing',
      task: 'demo.steps',
      input: { steps: 1, stepMs: 0, failTimes: 100 },
      attempts: 1,
      every: 1000,
      runImmediately: true,
      pauseAfterFailures: 2,
    });
    const paused = await poll(() => read(schedule.id), { until: (s) => s.state === 'paused-after-failures', label: 'the failure pause', timeoutMs: 15_000 });
    assert.equal(paused.failureStreak, 2);
    assert.equal(paused.enabled, true, 'the user flag is untouched');
    assert.equal(paused.nextRunAt, null);
    const runs = await runsOf(schedule.id);
    assert.equal(runs.length, 2);
    const enabled = await client.schedules.enable(schedule.id);
    assert.equal(enabled.state, 'active');
    assert.equal(enabled.failureStreak, 0);
    await client.schedules.disable(schedule.id);
  });

  // These wait for a run, not for runCount: a tick claims its count before it submits the run.
  it('fires an `every` schedule with runImmediately at once, however long its interval', async () => {
    const hourly = await Promise.all(
      Array.from({ length: 5 }, (_, i) => create({ name: `hourly ${i}`, task: 'demo.noop', input: { payload: i }, every: 3_600_000, runImmediately: true })),
    );
    for (const schedule of hourly) {
      const [run] = await poll(() => runsOf(schedule.id), { until: (runs) => runs.length === 1, label: `${schedule.name}'s first run`, timeoutMs: 15_000 });
      const fired = await read(schedule.id);
      const sinceCreation = Date.parse(run.scheduledFor!) - Date.parse(schedule.createdAt);
      assert.ok(sinceCreation >= 0 && sinceCreation < 60_000, `its first tick at its creation, not an interval on: ${run.scheduledFor}`);
      assert.equal(Date.parse(fired.nextRunAt!), Date.parse(run.scheduledFor!) + 3_600_000, 'the next tick an interval on');
      await client.schedules.disable(schedule.id);
    }
  });

  it('starts a schedule enabled for the first time, or edited into an immediate one, as a new one: at once', async () => {
    const hourly = { task: 'demo.noop', input: { payload: 'hourly' }, every: 3_600_000 };
    const created = await create({ ...hourly, name: 'hourly created off', runImmediately: true, enabled: false });
    const enabled = await client.schedules.enable(created.id);
    const edited = await create({ ...hourly, name: 'hourly edited' });
    assert.ok(Date.parse(edited.nextRunAt!) - Date.parse(edited.createdAt) >= 3_599_000, `first tick an interval on: ${edited.nextRunAt}`);
    const patched = await client.schedules.update(edited.id, { every: 3_600_000, runImmediately: true });
    for (const [schedule, since] of [[enabled, enabled.updatedAt], [patched, patched.updatedAt]] as const) {
      const [run] = await poll(() => runsOf(schedule.id), { until: (runs) => runs.length === 1, label: `${schedule.name}'s first run`, timeoutMs: 15_000 });
      assert.ok(Math.abs(Date.parse(run.scheduledFor!) - Date.parse(since)) < 60_000, `${schedule.name}: its first tick when changed: ${run.scheduledFor}`);
      await client.schedules.disable(schedule.id);
    }
  });

  // The worker reconciles every 10 s the schedules unchanged for 10 s: these are made to look unchanged for a minute.
  it('gives an active schedule its lost ticks back, takes those of a disabled or deleted one away, and finishes one past its end, within seconds', async () => {
    const lost = await create({ name: 'ticks lost', task: 'demo.noop', every: 1000, overlap: 'allow' });
    const broken = await create({ name: 'next tick lost', task: 'demo.noop', every: 3_600_000 });
    const stray = await create({ name: 'ticks stray', task: 'demo.noop', every: 1000, enabled: false });
    const deleted = await create({ name: 'ticks of the deleted', task: 'demo.noop', every: 1000 });
    await client.schedules.delete(deleted.id);
    const ending = await create({ name: 'past its end', task: 'demo.noop', every: 3_600_000, endAt: new Date(Date.now() + 1000).toISOString() });
    await withCore(async ({ schedules, scheduleStore }) => {
      await schedules.ticks.removeJobScheduler(lost.id);
      // BullMQ removes no scheduler's next tick by its own means: this one is lost as a failed write would lose it.
      const brokenTick = schedulerTickId(broken.id, (await schedules.ticks.getJobScheduler(broken.id))!.next!);
      const redis = stack.redis.connect();
      await redis.multi().zrem(schedules.ticks.keys.delayed, brokenTick).del(schedules.ticks.toKey(brokenTick)).exec().finally(() => redis.disconnect());
      assert.equal(await schedules.ticks.getJobState(brokenTick), 'unknown');
      for (const { id } of [stray, deleted]) await schedules.ticks.upsertJobScheduler(id, { every: 1000 }, { name: 'tick', data: { v: 1, scheduleId: id } });
      // A change is written only to the record as read: one read before another change is refused.
      const stored = (await scheduleStore.read(ending.id))!;
      assert.equal(await scheduleStore.append(stored, 'schedule.updated', { schedule: ending }, { state: 'finished' }, { mode: { unchangedSince: stored.updatedAt - 1 } }), null);
      for (const { id } of [lost, broken, stray, ending]) await scheduleStore.update(id, { updatedAt: Date.now() - 60_000 });
      const lostRuns = (await runsOf(lost.id)).length;
      const registered = await poll(() => Promise.all([lost, stray, deleted].map(({ id }) => schedules.ticks.getJobScheduler(id))), {
        until: ([back, ...gone]) => back !== undefined && gone.every((scheduler) => scheduler === undefined),
        label: 'the lost ticks back and the stray ones gone',
        timeoutMs: 30_000,
      });
      assert.equal(registered[0]?.every, 1000);
      await poll(async () => schedules.ticks.getJobState(schedulerTickId(broken.id, (await schedules.ticks.getJobScheduler(broken.id))?.next ?? 0)), {
        until: (state) => state === 'delayed',
        label: 'the next tick of the schedule that lost it, queued again',
        timeoutMs: 30_000,
      });
      await poll(() => runsOf(lost.id), { until: (runs) => runs.length > lostRuns, label: 'a run of the schedule whose ticks came back', timeoutMs: 15_000 });
    });
    const ended = await poll(() => read(ending.id), { until: (s) => s.state === 'finished', label: 'the schedule past its end finished', timeoutMs: 30_000 });
    assert.equal(ended.runCount, 0);
    assert.deepEqual([(await runsOf(stray.id)).length, (await read(stray.id)).state], [0, 'disabled'], 'a stray tick fires no run');
    await Promise.all([lost, broken].map(({ id }) => client.schedules.disable(id)));
  });

  it('finishes a schedule whose runs are spent when no tick did, once, and lets a change made meanwhile stand over a tick’s finish', async () => {
    const atLimit = await create({ name: 'limit spent', task: 'demo.noop', every: 3_600_000, limit: 2 });
    const oneOff = await create({ name: 'one-off spent', task: 'demo.noop', at: new Date(Date.now() + 3_600_000).toISOString() });
    const inFlight = await create({ name: 'last run in flight', task: 'demo.noop', every: 3_600_000, limit: 1 });
    const raised = await create({ name: 'limit raised', task: 'demo.noop', every: 3_600_000, limit: 1 });
    await withCore(async ({ schedules, scheduleStore }) => {
      // Runs counted as ticks count them, the ticks that would finish them lost; the last one's claim still
      // open: its run is being submitted, by a tick two hours late (workers were down).
      await scheduleStore.update(atLimit.id, { runCount: 2 });
      await scheduleStore.update(oneOff.id, { runCount: 1 });
      assert.ok(await scheduleStore.claimRun(inFlight.id, Date.now() - 2 * 3_600_000, 1));
      for (const { id } of [atLimit, oneOff, inFlight]) await scheduleStore.update(id, { updatedAt: Date.now() - 60_000 });
      await schedules.reconcile();
      const [limitSpent, oneOffSpent, stillFiring] = await Promise.all([atLimit, oneOff, inFlight].map(({ id }) => read(id)));
      assert.deepEqual([limitSpent.state, limitSpent.runCount, oneOffSpent.state, oneOffSpent.runCount], ['finished', 2, 'finished', 1]);
      assert.equal(stillFiring.state, 'active', 'the tick submitting the last run finishes its schedule itself');
      assert.equal(await schedules.ticks.getJobScheduler(atLimit.id), undefined);
      assert.equal(await schedules.ticks.getJobState(`${oneOff.id}_once`), 'unknown');

      // Two finishes of one read (a tick's and a reconciliation's): one is written and announced.
      const asRead = (await scheduleStore.read(inFlight.id))!;
      assert.deepEqual((await Promise.all([schedules.finish(asRead), schedules.finish(asRead)])).sort(), [false, true]);
      const { events } = await scheduleStore.readEvents(inFlight.id, 0);
      assert.equal(events.filter((e) => e.type === 'schedule.updated' && e.data.schedule.state === 'finished').length, 1);

      // A tick read the schedule before its limit was raised: its finish is refused.
      const beforeRaise = (await scheduleStore.read(raised.id))!;
      await client.schedules.update(raised.id, { limit: 5 });
      assert.equal(await schedules.finish(beforeRaise), false);
    });
    assert.equal((await read(raised.id)).state, 'active');
    await client.schedules.disable(raised.id);
  });

  it('fires a one-off schedule once, at its time, then finishes', async () => {
    const at = new Date(Date.now() + 1500).toISOString();
    const schedule = await create({ name: 'once', task: 'demo.noop', at });
    assert.equal(schedule.nextRunAt, at);
    const finished = await poll(() => read(schedule.id), { until: (s) => s.state === 'finished', label: 'the one run', timeoutMs: 15_000 });
    assert.equal(finished.runCount, 1);
    const [run] = await runsOf(schedule.id);
    assert.equal(run.scheduledFor, at);
  });

  // The client has no subscription to a schedule: a raw socket.io client.
  it('tells a schedule’s subscribers of each tick and of the fired executions’ events', async () => {
    const watcher = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      const schedule = await create({ name: 'watched', task: 'demo.noop', every: 1000, limit: 2 });
      const ack = await watcher.subscribeSchedule(schedule.id, 0);
      assert.ok(ack.ok);
      assert.equal(ack.snapshot.id, schedule.id);
      await watcher.waitFor('schedule.updated', (e) => e.data.schedule.state === 'finished', 15_000);
      const own = watcher.events.filter((e) => e.type.startsWith('schedule.'));
      assert.deepEqual(own.map((e) => e.seq), own.map((_, i) => i + 1), 'the schedule’s own events, each once, in order');
      const fired = own.filter((e): e is ConveyorEvent<'schedule.fired'> => e.type === 'schedule.fired');
      assert.equal(fired.length, 2);
      const executionId = fired[0].data.executionId;
      await watcher.waitFor('execution.completed', (e) => e.executionId === executionId);
      assert.ok(watcher.of(executionId).every((e) => e.scheduleId === schedule.id));
      const unknown = await watcher.subscribeSchedule('sch_01M000000000000000000000ZZ');
      assert.equal(unknown.ok, false);
    } finally {
      watcher.close();
    }
  });

  // Raw: the answers (201 with a Location, 400 naming the field, 409) are the subject.
  it('rejects bad triggers, saying which and why', async () => {
    const cases: [object, string][] = [
      [{ name: 'a', task: 'demo.noop', cron: '61 * * * *' }, 'cron'],
      [{ name: 'b', task: 'demo.noop', cron: '* * *' }, 'cron'],
      [{ name: 'c', task: 'demo.noop', cron: '0 9 * * *', tz: 'Mars/Olympus' }, 'tz'],
      [{ name: 'd', task: 'demo.noop', at: '2020-01-01T00:00:00Z' }, 'at'],
      [{ name: 'e', task: 'demo.noop', every: 1000, cron: '* * * * *' }, 'every'],
      [{ name: 'f', task: 'demo.noop', every: 10 }, 'every'],
      [{ name: 'g', task: 'demo.steps', input: { steps: 0, stepMs: 0 }, every: 1000 }, 'input.steps'],
    ];
    for (const [body, path] of cases) {
      const reply = await stack.api.post('/v1/schedules', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.ok(reply.body.details.some((d: { path: string }) => d.path === path), `${path} in ${JSON.stringify(reply.body.details)}`);
    }
    const created = await stack.api.post<ScheduleView>('/v1/schedules', { name: 'unique', task: 'demo.noop' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), `/v1/schedules/${created.body.id}`);
    const again = await stack.api.post('/v1/schedules', { name: 'unique', task: 'demo.noop' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'name_taken');
  });

  it('edits a schedule with a merge patch: null clears, the trigger is replaced whole', async () => {
    const schedule = await create({ name: 'editable', task: 'demo.noop', every: 60_000, limit: 5, tags: ['x'] });
    const patch = (body: Record<string, unknown>) => client.schedules.update(schedule.id, body);

    const renamed = await patch({ name: 'edited', limit: null, tags: ['y'] });
    assert.equal(renamed.name, 'edited');
    assert.equal(renamed.limit, null);
    assert.deepEqual(renamed.tags, ['y']);
    assert.equal(renamed.every, 60_000, 'untouched fields stay');

    const cron = await patch({ cron: '0 9 * * *', tz: 'Europe/Berlin' });
    assert.equal(cron.every, null, 'the old trigger is gone');
    assert.equal(cron.cron, '0 9 * * *');
    assert.match(cron.nextRunAt!, /T0[78]:00:00.000Z$/);

    const every = await patch({ every: 5000 });
    assert.equal(every.cron, null, 'every alone replaces cron and tz');
    // Two triggers at once: the 400 is the subject, raw.
    const both = await stack.api.request('PATCH', `/v1/schedules/${schedule.id}`, { every: 5000, at: new Date(Date.now() + 60_000).toISOString() });
    assert.equal(both.status, 400);

    assert.equal((await patch({ enabled: false })).state, 'disabled');
    assert.equal((await patch({ enabled: true })).state, 'active');
    await create({ name: 'editable', task: 'demo.noop' });
    await client.schedules.delete(schedule.id);
  });

  it('deletes a schedule for good', async () => {
    const schedule = await create({ name: 'doomed', task: 'demo.noop', every: 60_000 });
    // The answers (204, then 404) are the subject: raw.
    assert.equal((await stack.api.delete(`/v1/schedules/${schedule.id}`)).status, 204);
    assert.equal((await stack.api.get(`/v1/schedules/${schedule.id}`)).status, 404);
    assert.equal((await client.schedules.list()).items.some((s) => s.id === schedule.id), false);
    await create({ name: 'doomed', task: 'demo.noop' });
  });
});
