import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { ConveyorClient, ListFilters } from '@conveyor/client';
import { RedisKeys } from '@conveyor/redis';
import { EventLog, poll, Stack } from '@conveyor/testing';

/** Data that earlier versions wrote stays readable and writable. */
describe('stored formats of earlier versions', () => {
  let stack: Stack;
  let client: ConveyorClient;
  let redis: Redis;
  let keys: RedisKeys;

  before(async () => {
    stack = await Stack.start();
    client = stack.client();
    redis = stack.redis.connect();
    keys = new RedisKeys(stack.prefix);
  });
  after(async () => {
    client?.close();
    redis?.disconnect();
    await stack?.stop();
  });

  /** A scheduled execution (nothing runs it meanwhile). */
  const later = () => client.submit('demo.noop', { payload: 1 }, { runAt: new Date(Date.now() + 60 * 60_000).toISOString() });

  const ended = async (id: string) => {
    const watch = client.watch(id);
    try {
      return await watch.done;
    } finally {
      watch.stop();
    }
  };

  /** Event 1 as earlier versions logged it: its envelope's JSON, fields in the contract's order. */
  const loggedQueued = async (id: string) => JSON.stringify((await client.events(id)).items[0]);

  it('reads and extends an event log kept as a stream, in order and by seq', async () => {
    const { id, queue } = await later();
    const log = keys.executionEvents(queue, id);
    await redis.xadd(log, '1-0', 'e', await loggedQueued(id));

    await client.cancel(id, 'stream log');
    assert.equal(await redis.type(log), 'stream');
    const events = (await client.events(id)).items;
    assert.deepEqual(events.map((e) => [e.seq, e.type]), [[1, 'execution.queued'], [2, 'execution.cancelled']]);
    assert.deepEqual((await client.events(id, { since: 1 })).items.map((e) => e.seq), [2]);
  });

  it('reads and extends an event log that holds its event 1, once', async () => {
    const { id, queue } = await later();
    const log = keys.executionEvents(queue, id);
    const queued = await loggedQueued(id);
    await redis.rpush(log, queued);

    await client.cancel(id, 'list log with event 1');
    const events = (await client.events(id)).items;
    assert.deepEqual(events.map((e) => [e.seq, e.type]), [[1, 'execution.queued'], [2, 'execution.cancelled']]);
    assert.equal(JSON.stringify(events[0]), queued);
    assert.deepEqual((await client.events(id, { limit: 1 })).items.map((e) => e.seq), [1]);
    assert.deepEqual((await client.events(id, { since: 1 })).items.map((e) => e.seq), [2]);
  });

  it('takes an execution out of the all-executions index earlier versions kept, as it is deleted', async () => {
    const { id, queue, tenant } = await later();
    const all = keys.index(queue, tenant, 'all');
    await redis.zadd(all, 0, id);
    await client.cancel(id);
    await client.delete(id);
    assert.equal(await redis.zscore(all, id), null);
  });

  it('lists an execution from the indexes of its status and of its task that earlier versions kept, until it moves out of them', async () => {
    const { id, queue, tenant } = await later();
    const listed = async (filters: ListFilters) => (await client.list({ ...filters, limit: 100 })).items.some((item) => item.id === id);
    const byStatus = keys.index(queue, tenant, 'status', 'scheduled');
    const byTask = keys.index(queue, tenant, 'task', 'demo.noop');
    // This version keeps it in one index of its status and task, and the task among the tenant's that
    // have them; an earlier one kept it in two, and knew no such tasks.
    assert.equal(await redis.zrem(keys.statusIndex(queue, tenant, 'scheduled', 'demo.noop'), id), 1);
    await redis.zadd(byStatus, 0, id);
    await redis.zadd(byTask, 0, id);
    await redis.srem(keys.indexedTasks(queue, tenant), 'demo.noop');

    assert.deepEqual(
      await Promise.all(([{}, { status: ['scheduled'] }, { task: ['demo.noop'] }, { status: ['scheduled'], task: ['demo.noop'] }] as ListFilters[]).map(listed)),
      [true, true, true, true],
    );
    assert.deepEqual(await Promise.all(([{ status: ['queued'] }, { task: ['demo.steps'] }, { status: ['queued'], task: ['demo.noop'] }] as ListFilters[]).map(listed)), [false, false, false]);

    await client.cancel(id);
    assert.equal(await redis.zscore(byStatus, id), null, 'out of the index of the status it left');
    assert.deepEqual(await Promise.all(([{ status: ['scheduled'] }, { status: ['cancelled'], task: ['demo.noop'] }] as ListFilters[]).map(listed)), [false, true]);
    assert.equal((await client.list({ limit: 100 })).items.filter((item) => item.id === id).length, 1);
    await client.delete(id);
    assert.equal(await redis.zscore(byTask, id), null, 'out of the index of its task once deleted');
  });

  it('writes no field that its absence implies (in records, jobs, events), and reads records and jobs of earlier versions that spell them out', async () => {
    // One attempt, which fails: its job needs no backoff, and it can be retried. A priority other than
    // the normal one is kept.
    const { id, queue } = await client.submit('demo.steps', { steps: 1, stepMs: 1, failTimes: 1 }, { attempts: 1, priority: 'high' });
    const record = keys.execution(queue, id);
    const job = keys.job(queue, id);
    assert.deepEqual(await redis.hmget(record, 'id', 'queue', 'tenant', 'priority'), [null, null, null, '10']);
    const [opts, data] = (await redis.hmget(job, 'opts', 'data')).map((json) => JSON.parse(json!));
    assert.deepEqual(Object.keys(opts).filter((name) => ['jobId', 'delay', 'backoff'].includes(name)), []);
    assert.equal('backoff' in data, false);
    assert.equal('v' in data, false, 'the first version is not spelled out');
    assert.equal(await redis.hget(keys.executionIndex(id), id), queue, 'the id lookup names the queue alone for the default tenant');
    assert.equal((await ended(id)).status, 'failed');
    const read = await client.get(id);
    // Its log's entries leave out whom they are about: its record says it, and reads put it back.
    const entries = (await redis.lrange(keys.executionEvents(queue, id), 0, -1)).map((entry) => JSON.parse(entry));
    assert.deepEqual(entries.map((entry) => Object.keys(entry)), entries.map(() => ['v', 'type', 'seq', 'ts', 'data']));
    const events = (await client.events(id)).items;
    assert.deepEqual(entries.map((entry) => [entry.seq, entry.type]), events.slice(1).map((event) => [event.seq, event.type]));
    assert.equal(events.at(-1)?.type, 'execution.failed');
    assert.deepEqual(events.map((event) => [event.executionId, event.queue, event.task, event.tenant]), events.map(() => [id, queue, 'demo.steps', read.tenant]));

    await redis.hset(record, 'id', id, 'queue', queue, 'tenant', read.tenant, 'priority', String(read.priority));
    await redis.hset(keys.executionIndex(id), id, `${queue}/${read.tenant}`);
    await redis.hset(job, 'opts', JSON.stringify({ ...opts, jobId: id, delay: 0 }), 'data', JSON.stringify({ ...data, backoff: { type: 'fixed', delayMs: 0 } }));
    assert.deepEqual(await client.get(id), read);
    assert.equal(read.priority, 10);
    // The retry's answer is read after the job is back, so the worker may have taken it already: its events tell.
    await client.retry(id);
    assert.equal((await ended(id)).status, 'failed');
    const types = (await client.events(id)).items.map((event) => event.type);
    assert.deepEqual(types.slice(-3), ['execution.retried', 'execution.started', 'execution.failed']);
  });

  it("stores a completion without its result, which its job keeps, and reads it back as it was sent live; an earlier version's with its result, as stored", async () => {
    // Due in a moment: it is followed before it runs, so that its completion is received as published.
    const runAt = new Date(Date.now() + 3000).toISOString();
    const { id } = await client.submit('demo.noop', { payload: { nested: [1, 'two', null], text: 'x'.repeat(1000) } }, { runAt });
    const run = new EventLog();
    let followedFrom: string | undefined;
    const watch = client.watch(id, { onEvent: (event) => run.onEvent(event), onSnapshot: ({ status }) => (followedFrom = status) }, { since: 0 });
    await watch.done.finally(() => watch.stop());
    assert.equal(followedFrom, 'scheduled', 'followed before it ran');
    const log = keys.executionEvents('demo', id);
    const stored = JSON.parse((await redis.lindex(log, -1))!);
    assert.deepEqual([stored.type, stored.data], ['execution.completed', {}]);
    const live = run.events.filter((e) => e.seq !== undefined);
    assert.equal(JSON.stringify((await client.events(id)).items), JSON.stringify(live));
    assert.equal(JSON.stringify((await client.events(id, { since: live.length - 1 })).items), JSON.stringify(live.slice(-1)));

    await redis.lset(log, -1, JSON.stringify({ ...stored, data: { result: 'as stored' } }));
    assert.deepEqual((await client.events(id)).items.at(-1)?.data, { result: 'as stored' });
    // Its job gone (removed by hand): the result reads null.
    await redis.lset(log, -1, JSON.stringify(stored));
    await redis.del(keys.job('demo', id));
    assert.deepEqual((await client.events(id)).items.at(-1)?.data, { result: null });
  });

  it('adds a cancelled queued execution back on retry with its options, and without what its absence implies', async () => {
    const { id, queue } = await client.submit('demo.noop', { payload: 1 }, { runAt: new Date(Date.now() + 60 * 60_000).toISOString(), attempts: 2, priority: 'low' });
    const job = keys.job(queue, id);
    const submitted = JSON.parse((await redis.hget(job, 'opts'))!);
    assert.equal((await client.cancel(id)).status, 'cancelled');
    assert.equal(await redis.exists(job), 0, 'the queued job is removed');
    await client.retry(id);
    const opts = JSON.parse((await redis.hget(job, 'opts'))!);
    assert.deepEqual(Object.keys(opts).filter((name) => ['jobId', 'delay'].includes(name)), []);
    assert.deepEqual([opts.attempts, opts.priority, opts.backoff], [2, submitted.priority, submitted.backoff]);
    assert.equal((await ended(id)).status, 'completed');
    const types = (await client.events(id)).items.map((event) => event.type);
    assert.deepEqual(types.slice(-3), ['execution.retried', 'execution.started', 'execution.completed']);
  });

  it("reads a scheduled run's events with its schedule's id, which only its record keeps", async () => {
    const schedule = await client.schedules.create({ name: 'stored formats', task: 'demo.noop', input: { payload: 1 }, every: 3_600_000 });
    try {
      await client.schedules.runNow(schedule.id);
      const [run] = (await poll(() => client.schedules.runs(schedule.id), { until: (runs) => runs.items.length > 0, label: 'the first run' })).items;
      assert.equal((await ended(run.id)).status, 'completed');
      const events = (await client.events(run.id)).items;
      assert.deepEqual(events.map((event) => event.type), ['execution.queued', 'execution.started', 'execution.completed']);
      assert.deepEqual(events.map((event) => event.scheduleId), events.map(() => schedule.id));
    } finally {
      await client.schedules.delete(schedule.id);
    }
  });
});
