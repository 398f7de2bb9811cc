import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ulid } from 'ulid';
import type { ConveyorClient } from '@conveyor/client';
import { limits, scheduleQueue } from '@conveyor/contracts';
import { RedisKeys } from '@conveyor/redis';
import { ExecutionWatcher, poll, Stack, submitAndWatch } from '@conveyor/testing';

describe('the worker against oversize output, hand-made jobs and corrupted schedules', () => {
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

  const overLimit = limits.payloadBytes + 1024;
  const types = (events: { type: string }[]) => events.map((e) => e.type);

  it('fails an attempt whose result is over the limit at once, as result_too_large, without retrying', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0, resultBytes: overLimit }, { attempts: 3 });
    const final = await run.done;
    assert.equal(final.status, 'failed');
    assert.equal(final.error?.code, 'result_too_large');
    assert.equal(final.error?.retryable, false);
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    assert.ok(!types(run.events).includes('execution.retrying'));
  });

  it('rejects an oversize checkpoint: a handler that lets it through fails as checkpoint_too_large, without retrying', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 2, stepMs: 0, checkpointBytes: overLimit }, { attempts: 3 });
    const final = await run.done;
    assert.equal(final.status, 'failed');
    assert.equal(final.error?.code, 'checkpoint_too_large');
    assert.match(final.error?.message ?? '', /over the 262144-byte limit/);
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    assert.ok(!types(run.events).includes('execution.retrying'));
  });

  it('fails jobs added by hand with a malformed envelope, saying why, and builds no key from their fields', async () => {
    const demo = new Queue(keys.bullQueueName('demo'), { connection: redis, prefix: stack.prefix });
    try {
      const data = { v: 1, tenant: 'default', input: {}, timeoutMs: null, backoff: { type: 'fixed', delayMs: 0 } };
      const cases = [
        { name: 'demo.noop', data: { ...data, tenant: 'Evil:{x}' }, reason: /tenant/, marker: 'Evil' },
        { name: 'demo.noop', data: { ...data, scheduleId: 'sch_nope:*' }, reason: /scheduleId/, marker: 'sch_nope' },
        { name: 'no.such-task', data, reason: /No task "no\.such-task"/, marker: 'no.such-task' },
        { name: 'demo.noop', data: { ...data, v: 7 }, reason: /format v7/ },
        { name: 'demo.noop', data: { ...data, timeoutMs: 'soon' }, reason: /timeoutMs/ },
        { name: 'demo.noop', data, id: 'not-an-execution-id', reason: /not an execution id/, marker: 'not-an-execution-id' },
      ];
      const added = await Promise.all(
        cases.map((c) => demo.add(c.name, c.data as never, { jobId: c.id ?? `exec_${ulid()}`, attempts: 3 })),
      );
      for (const [i, job] of added.entries()) {
        await poll(() => demo.getJobState(job.id!), { until: (state) => state === 'failed', label: `job ${i} to fail` });
        const failed = (await demo.getJob(job.id!))!;
        assert.match(failed.failedReason, cases[i].reason, `case ${i}: ${failed.failedReason}`);
        assert.equal(failed.attemptsMade, 1, `case ${i} is not retried`);
        assert.equal((await stack.api.get(`/v1/executions/${job.id}`)).status, 404, `case ${i} was not adopted`);
      }
      // BullMQ keeps each job under its own id; Conveyor must add nothing.
      const jobKeys = new Set(added.map((job) => keys.job('demo', job.id!)));
      const stored = (await stack.redis.keys(redis, `${stack.prefix}:*`)).filter((key) => !jobKeys.has(key));
      for (const { marker } of cases) {
        if (marker) assert.deepEqual(stored.filter((key) => key.includes(marker)), [], `no key holds ${marker}`);
      }
      for (const job of added) {
        if (job.id) assert.equal(await redis.hget(keys.executionIndex(job.id), job.id), null, `${job.id} is not in the execution index`);
      }
    } finally {
      await demo.close();
    }
  });

  it('adopts a valid job added by hand: its timeline starts with the execution.queued it published', async () => {
    const demo = new Queue(keys.bullQueueName('demo'), { connection: redis, prefix: stack.prefix });
    const watcher = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      assert.ok((await watcher.subscribeRoom({ queue: 'demo' })).ok);
      const id = `exec_${ulid()}`;
      await demo.add('demo.noop', { v: 1, input: { payload: 'by hand' } } as never, { jobId: id, priority: 5 });
      const published = await watcher.waitFor('execution.queued', (e) => e.executionId === id);
      await watcher.waitForEnd(id);
      const [first, ...rest] = (await client.events(id)).items;
      assert.deepEqual(first, published);
      assert.deepEqual([first.data.priority, rest.map((e) => e.type)], [5, ['execution.started', 'execution.completed']]);
    } finally {
      watcher.close();
      await demo.close();
    }
  });

  it("ends the record of an execution Conveyor made but this worker refuses (a newer job format) failed, saying why, announcing no start", async () => {
    const demo = new Queue(keys.bullQueueName('demo'), { connection: redis, prefix: stack.prefix });
    try {
      const { id } = await client.submit('demo.noop', {}, { delayMs: 60_000 });
      // As a newer gateway would have written it: its version first.
      const jobKey = keys.job('demo', id);
      const data = JSON.parse((await redis.hget(jobKey, 'data'))!);
      await redis.hset(jobKey, 'data', JSON.stringify({ v: 2, ...data }));
      await (await demo.getJob(id))!.promote();
      // Lists follow Conveyor's record (a read alone would derive `failed` from the job).
      await poll(() => client.list({ status: ['failed'] }), { until: (page) => page.items.some((item) => item.id === id), label: 'the record to end failed' });
      const failed = await client.get(id);
      assert.deepEqual([failed.status, failed.error?.code, failed.error?.retryable], ['failed', 'unsupported_format', false]);
      assert.deepEqual((await client.events(id)).items.map((e) => e.type), ['execution.queued', 'execution.failed']);
    } finally {
      await demo.close();
    }
  });

  it('ends the record of an execution whose task this worker does not run failed, announcing no start', async () => {
    const demo = new Queue(keys.bullQueueName('demo'), { connection: redis, prefix: stack.prefix });
    try {
      const { id, tenant } = await client.submit('demo.noop', {}, { delayMs: 60_000 });
      // As a gateway whose catalogue still had the task would have written it (its task names its status index).
      await redis.hset(keys.job('demo', id), 'name', 'demo.retired');
      await redis.hset(keys.execution('demo', id), 'task', 'demo.retired');
      await redis.zrem(keys.statusIndex('demo', tenant, 'scheduled', 'demo.noop'), id);
      await redis.zadd(keys.statusIndex('demo', tenant, 'scheduled', 'demo.retired'), 0, id);
      await redis.sadd(keys.indexedTasks('demo', tenant), 'demo.retired');
      await (await demo.getJob(id))!.promote();
      await poll(() => client.list({ status: ['failed'] }), { until: (page) => page.items.some((item) => item.id === id), label: 'the record to end failed' });
      assert.equal((await client.get(id)).error?.code, 'unknown_task');
      assert.deepEqual((await client.events(id)).items.map((e) => e.type), ['execution.queued', 'execution.failed']);
    } finally {
      await demo.close();
    }
  });

  it('fails a schedule tick added by hand that names no schedule id', async () => {
    const ticks = new Queue(keys.bullQueueName(scheduleQueue), { connection: redis, prefix: stack.prefix });
    try {
      const job = await ticks.add('tick', { v: 1, scheduleId: 'sch_x:*' });
      await poll(() => ticks.getJobState(job.id!), { until: (state) => state === 'failed', label: 'the tick to fail' });
      assert.match((await ticks.getJob(job.id!))!.failedReason, /no schedule id \(sch_<ULID>\): sch_x:\*/);
    } finally {
      await ticks.close();
    }
  });

  it('fails each run of a stored schedule that no longer validates, pauses it after pauseAfterFailures, and ticks on once fixed', async () => {
    const schedule = await client.schedules.create({
      name: 'corrupted',
      task: 'demo.steps',
      input: { steps: 1, stepMs: 0 },
      every: 1000,
      pauseAfterFailures: 2,
      enabled: false,
    });
    // As if edited in Redis, or validated by an older, laxer input class.
    const key = keys.schedule(scheduleQueue, schedule.id);
    const definition = JSON.parse((await redis.hget(key, 'definition'))!);
    await redis.hset(key, 'definition', JSON.stringify({ ...definition, input: { steps: 'many', stepMs: 0 }, tags: 'oops' }));
    await client.schedules.enable(schedule.id);

    const paused = await poll(() => client.schedules.get(schedule.id), {
      until: (s) => s.state === 'paused-after-failures',
      label: 'the schedule to pause after two failed runs',
    });
    assert.equal(paused.failureStreak, 2);
    const runs = (await client.schedules.runs(schedule.id)).items;
    assert.equal(runs.length, 2);
    for (const run of runs) {
      assert.equal(run.status, 'failed');
      assert.equal(run.scheduleId, schedule.id);
      assert.equal(run.error?.code, 'invalid_schedule');
      assert.equal(run.error?.retryable, false);
      assert.match(run.error?.message ?? '', /input\.steps/);
      assert.match(run.error?.message ?? '', /tags/);
    }
    const log = await redis.lrange(keys.scheduleEvents(scheduleQueue, schedule.id), 0, -1);
    assert.deepEqual(
      types(log.map((entry) => JSON.parse(entry))).filter((type) => type !== 'schedule.updated'),
      ['schedule.fired', 'schedule.fired', 'schedule.paused'],
    );

    await client.schedules.update(schedule.id, { input: { steps: 1, stepMs: 0 }, tags: [] });
    await client.schedules.enable(schedule.id);
    const fixed = await poll(() => client.schedules.runs(schedule.id), {
      until: (page) => page.items.some((run) => run.status === 'completed'),
      label: 'a run of the fixed schedule to complete',
    });
    assert.equal(fixed.items.filter((run) => run.status === 'failed').length, 2);
    await client.schedules.disable(schedule.id);
  });
  it('answers run-now of a schedule whose task left the catalogue with 409 invalid_schedule, counting the failure', async () => {
    const schedule = await client.schedules.create({ name: 'orphaned', task: 'demo.noop', pauseAfterFailures: 5 });
    const key = keys.schedule(scheduleQueue, schedule.id);
    const definition = JSON.parse((await redis.hget(key, 'definition'))!);
    await redis.hset(key, 'definition', JSON.stringify({ ...definition, task: 'demo.gone' }));

    const refused = await stack.api.post(`/v1/schedules/${schedule.id}/run-now`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'invalid_schedule');
    assert.match(refused.body.message, /task: is not a known task/);
    assert.equal((await client.schedules.get(schedule.id)).failureStreak, 1);
  });
});
