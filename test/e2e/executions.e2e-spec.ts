import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import { ulidAlphabet, type ConveyorEvent } from '@conveyor/contracts';
import { eventLogCap, ExecutionStore } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';
import { ExecutionWatcher, poll, Stack, watchFromStart } from '@conveyor/testing';

describe('executions end to end', () => {
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

  const progressOf = (events: ConveyorEvent[]) => events.filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress');

  it('runs demo.steps: started, progress to 100 % with gapless seqs, completed, and GET agrees', async () => {
    const submitted = await client.submit('demo.steps', { steps: 5, stepMs: 60 });
    assert.equal(submitted.status, 'queued');
    assert.match(submitted.id, /^exec_[0-9A-Z]{26}$/);
    const watch = watchFromStart(client, submitted.id);

    await watch.done;
    // Log lines are live only, so whether this subscriber saw the first one depends on timing.
    const events = watch.events.filter((e) => e.type !== 'execution.log');
    const end = events.at(-1)!;
    assert.equal(end.type, 'execution.completed');
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'every seq from 1, once, in order',
    );
    assert.equal(events[0].type, 'execution.queued');
    assert.equal(events[1].type, 'execution.started');
    const progress = progressOf(events);
    assert.ok(progress.length >= 1);
    assert.equal(progress.at(-1)?.data.percent, 100);
    assert.deepEqual(progress.map((e) => e.data.percent), [...progress.map((e) => e.data.percent)].sort((a, b) => a - b));
    assert.deepEqual(end.data, { result: { steps: 5 } });

    const final = await client.get(submitted.id);
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.result, { steps: 5 });
    assert.equal(final.seq, end.seq);
    assert.equal(final.progress?.percent, 100);
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    assert.ok(final.startedAt && final.finishedAt && final.startedAt <= final.finishedAt);
  });

  it('relays log lines live, without a seq', async () => {
    const submitted = await client.submit('demo.steps', { steps: 1, stepMs: 0 }, { delayMs: 300 });
    const watch = watchFromStart(client, submitted.id);
    await watch.done;
    const logs = watch.events.filter((e): e is ConveyorEvent<'execution.log'> => e.type === 'execution.log');
    assert.deepEqual(
      logs.map((e) => [e.seq, e.data.level, e.data.line]),
      [[undefined, 'info', 'attempt 1: starting (1 steps of 0 ms)']],
    );
  });

  it('coalesces a flood of progress at the source: a few events a second, the last value kept', async () => {
    // 3,000 steps of 0 ms: as many ctx.progress() calls as the handler can make.
    const submitted = await client.submit('demo.steps', { steps: 3000, stepMs: 0 });
    const watch = watchFromStart(client, submitted.id);
    await watch.done;
    const end = watch.events.at(-1)!;
    const progress = progressOf(watch.events);
    const started = watch.events.find((e) => e.type === 'execution.started')!;
    const seconds = (Date.parse(end.ts) - Date.parse(started.ts)) / 1000;
    assert.ok(progress.length <= Math.ceil(seconds * 5) + 2, `${progress.length} progress events in ${seconds} s (at most 5 a second)`);
    assert.deepEqual(progress.at(-1)?.data, { percent: 100, step: 3000, message: 'step 3000 of 3000' });
  });

  it('retries with growing exponential backoff, then completes', async () => {
    const submitted = await client.submit('demo.steps', { steps: 2, stepMs: 0, failTimes: 2 }, { attempts: 3, backoff: { type: 'exponential', delayMs: 200, jitter: 0 } });
    const watch = watchFromStart(client, submitted.id);
    const final = await watch.done;
    assert.equal(watch.events.at(-1)?.type, 'execution.completed');

    const retrying = watch.events.filter((e): e is ConveyorEvent<'execution.retrying'> => e.type === 'execution.retrying');
    const started = watch.events.filter((e): e is ConveyorEvent<'execution.started'> => e.type === 'execution.started');
    assert.deepEqual(retrying.map((e) => e.data.attempt), [1, 2]);
    assert.deepEqual(started.map((e) => e.data.attempt), [1, 2, 3]);
    const announced = retrying.map((e) => Date.parse(e.data.retryAt) - Date.parse(e.ts));
    assert.ok(announced[0] >= 190 && announced[0] <= 210, `first wait ≈ 200 ms, was ${announced[0]}`);
    assert.ok(announced[1] >= 390 && announced[1] <= 410, `second wait ≈ 400 ms, was ${announced[1]}`);
    const waited = [1, 2].map((i) => Date.parse(started[i].ts) - Date.parse(retrying[i - 1].ts));
    assert.ok(waited[0] >= 190, `the second attempt waited its backoff (${waited[0]} ms)`);
    assert.ok(waited[1] > waited[0], `the wait grew (${waited.join(' then ')} ms)`);
    assert.equal(retrying[0].data.error.message.includes('Failing attempt 1'), true);

    assert.equal(final.status, 'completed');
    assert.deepEqual(final.attempts, { made: 3, max: 3 });
  });

  it('fails a timed-out attempt as a timeout', async () => {
    const submitted = await client.submit('demo.steps', { steps: 1, stepMs: 60_000 }, { timeoutMs: 300, attempts: 1 });
    const watch = watchFromStart(client, submitted.id);
    const final = await watch.done;
    const end = watch.events.at(-1) as ConveyorEvent<'execution.failed'>;
    assert.equal(end.type, 'execution.failed');
    assert.equal(end.data.error.code, 'timeout');
    assert.equal(end.data.willRetry, false);

    assert.equal(final.status, 'failed');
    assert.equal(final.error?.code, 'timeout');
    assert.equal(final.error?.retryable, true);
  });

  it('does not start a delayed execution before runAt', async () => {
    const runAt = new Date(Date.now() + 1500).toISOString();
    const submitted = await client.submit('demo.noop', { payload: 'later' }, { runAt });
    assert.equal(submitted.status, 'scheduled');
    assert.equal(submitted.runAt, runAt);
    assert.equal((await client.get(submitted.id)).status, 'scheduled');

    const final = await watchFromStart(client, submitted.id).done;
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.result, { payload: 'later' });
    assert.ok(final.startedAt && final.startedAt >= runAt, `started ${final.startedAt}, not before ${runAt}`);
  });

  it("keeps event 1 in the record: the timeline's execution.queued is the submission's, with no event log yet", async () => {
    const redis = stack.redis.connect();
    try {
      const keys = new RedisKeys(stack.prefix);
      const now = await client.submit('demo.noop', { payload: 1 }, { delayMs: 0, priority: 'high' });
      const later = await client.submit('demo.noop', { payload: 2 }, { delayMs: 60 * 60_000, tags: ['later'] });
      for (const [submitted, status] of [[now, 'queued'], [later, 'scheduled']] as const) {
        const { items } = await client.events(submitted.id);
        const first = items[0] as ConveyorEvent<'execution.queued'>;
        assert.deepEqual(
          first,
          { v: 1, type: 'execution.queued', executionId: submitted.id, queue: 'demo', task: 'demo.noop', tenant: submitted.tenant, seq: 1, ts: submitted.createdAt, data: { status, runAt: submitted.runAt, priority: submitted.priority } },
        );
        assert.deepEqual((await client.events(submitted.id, { limit: 1 })).items, [first]);
      }
      assert.equal(await redis.exists(keys.executionEvents('demo', later.id)), 0);
      await client.cancel(later.id);
      const timeline = (await client.events(later.id)).items;
      assert.deepEqual(timeline.map((e) => [e.seq, e.type]), [[1, 'execution.queued'], [2, 'execution.cancelled']]);
      assert.deepEqual((await client.events(later.id, { since: 1 })).items, timeline.slice(1));
    } finally {
      redis.disconnect();
    }
  });

  it('keeps 1,000 events of an execution, event 1 among them until the log is trimmed past it', async () => {
    const redis = stack.redis.connect();
    const late = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      const store = new ExecutionStore(redis, new RedisKeys(stack.prefix));
      const { id } = await client.submit('demo.noop', { payload: 1 }, { delayMs: 60 * 60_000 });
      const record = (await store.read('demo', id))!;
      const progress = (step: number) => store.append(record, 'execution.progress', { percent: 0, step });
      for (let step = 2; step <= eventLogCap; step++) await progress(step);
      const all = Array.from({ length: eventLogCap }, (_, i) => i + 1);

      assert.deepEqual((await client.events(id)).items.map((e) => e.seq), all);
      const ack = await late.subscribe(id, 0);
      assert.ok(ack.ok && !ack.truncated);
      await late.waitFor('execution.progress', (e) => e.executionId === id && e.seq === eventLogCap);
      assert.deepEqual(late.seqs(id), all);

      await progress(eventLogCap + 1);
      assert.deepEqual((await client.events(id)).items.map((e) => e.seq), all.slice(2).concat(eventLogCap + 1));
      const later = await ExecutionWatcher.connect(stack.monitorUrl);
      try {
        const trimmed = await later.subscribe(id, 0);
        assert.ok(trimmed.ok);
        assert.deepEqual([trimmed.truncated, trimmed.firstSeq], [true, 3]);
      } finally {
        later.close();
      }
    } finally {
      late.close();
      redis.disconnect();
    }
  });

  // What the monitor sends a socket is the subject here: a raw socket.io client, which drops nothing.
  it('gives a late subscriber the snapshot, then exactly the events after it', async () => {
    const submitted = await client.submit('demo.steps', { steps: 20, stepMs: 50 });
    await poll(() => client.get(submitted.id), { until: (e) => (e.progress?.percent ?? 0) >= 30, label: 'progress of 30 %' });

    const late = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      const ack = await late.subscribe(submitted.id);
      assert.ok(ack.ok);
      assert.equal(ack.snapshot.status, 'running');
      assert.ok(ack.snapshot.seq > 2);
      const end = await late.waitForEnd(submitted.id);
      const seqs = late.seqs(submitted.id);
      assert.deepEqual(
        seqs,
        Array.from({ length: end.seq! - ack.snapshot.seq }, (_, i) => ack.snapshot.seq + 1 + i),
      );
    } finally {
      late.close();
    }
  });

  it('answers a subscription to an unknown execution with ok: false', async () => {
    const watcher = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      const ack = await watcher.subscribe('exec_01M000000000000000000000ZZ');
      assert.deepEqual(ack, { ok: false, code: 'not_found', message: 'Execution exec_01M000000000000000000000ZZ was not found.' });
      const malformed = await watcher.subscribe('not-an-id');
      assert.deepEqual(malformed, { ok: false, code: 'not_found', message: 'Execution not-an-id was not found.' });
    } finally {
      watcher.close();
    }
  });

  /** How many records, jobs and id lookups the queues hold. */
  const written = (redis: ReturnType<Stack['redis']['connect']>, queues = ['demo']) =>
    Promise.all(
      [...queues.flatMap((queue) => [`${stack.prefix}:{${queue}}:execution:*`, `${stack.prefix}:{${queue}}:exec_*`]), `${stack.prefix}:{ids:*}:execution-index`].map(async (pattern) => {
        const keys = await stack.redis.keys(redis, pattern);
        return pattern.endsWith('index') ? (await Promise.all(keys.map((key) => redis.hlen(key)))).reduce((a, b) => a + b, 0) : keys.length;
      }),
    );

  it('keeps nothing of a submission whose transaction failed in part: no record, no job, no id lookup', async () => {
    const redis = stack.redis.connect();
    const tenants = new RedisKeys(stack.prefix).tenants('demo');
    // Paused, so that no worker takes a job before the gateway undoes it.
    assert.equal((await stack.api.post('/v1/queues/demo/pause', {})).status, 200);
    const members = await redis.smembers(tenants);
    try {
      const before = await written(redis);
      // The transaction's SADD fails (a set of the wrong type): the record and job after it are written all the same.
      await redis.set(tenants, 'not a set');
      assert.equal((await stack.api.post('/v1/executions', { task: 'demo.noop' })).status, 500);
      assert.equal((await stack.api.post('/v1/executions/batch', { executions: [{ task: 'demo.noop' }, { task: 'demo.noop' }] })).status, 500);
      assert.deepEqual(await written(redis), before);
    } finally {
      await redis.del(tenants);
      if (members.length > 0) await redis.sadd(tenants, ...members);
      await stack.api.post('/v1/queues/demo/resume', {});
      redis.disconnect();
    }
  });

  it('keeps nothing of a batch whose middle chunk failed: neither the chunks before it nor those after', async () => {
    const redis = stack.redis.connect();
    const keys = new RedisKeys(stack.prefix);
    const tenants = keys.tenants('http');
    const jobEvents = `${stack.prefix}:${keys.bullQueueName('demo')}:events`;
    const queues = ['demo', 'http'];
    for (const queue of queues) assert.equal((await stack.api.post(`/v1/queues/${queue}/pause`, {})).status, 200);
    const members = await redis.smembers(tenants);
    try {
      const before = await written(redis, queues);
      const [[lastEvent] = ['0-0']] = await redis.xrevrange(jobEvents, '+', '-', 'COUNT', 1);
      // Batches are written 100 executions a chunk: only the second chunk holds the one of the http
      // queue, whose transaction fails (its tenants are a set of the wrong type).
      await redis.set(tenants, 'not a set');
      const executions = Array.from({ length: 250 }, (_, i) => (i === 150 ? { task: 'http.request', input: { url: 'http://127.0.0.1:9/' } } : { task: 'demo.noop' }));
      assert.equal((await stack.api.post('/v1/executions/batch', { executions })).status, 500);
      assert.deepEqual(await written(redis, queues), before);
      const added = (await redis.xrange(jobEvents, `(${lastEvent}`, '+')).filter(([, fields]) => fields[1] === 'added');
      assert.ok(added.length >= 100, `the first chunk's jobs were added, then undone (${added.length} added)`);
    } finally {
      await redis.del(tenants);
      if (members.length > 0) await redis.sadd(tenants, ...members);
      for (const queue of queues) await stack.api.post(`/v1/queues/${queue}/resume`, {});
      redis.disconnect();
    }
  });

  it('adds no job for a submission whose id lookup could not be written, so that every job is found by its id', async () => {
    const redis = stack.redis.connect();
    const keys = new RedisKeys(stack.prefix);
    // Every lookup hash (one per last character of an id) is of the wrong type while the test runs.
    const lookups = [...ulidAlphabet].map((last) => keys.executionIndex(`exec_${last}`));
    const saved = (key: string) => `${key}:saved`;
    // BullMQ's own stream of the queue's job events: a job added, even if undone at once, is there.
    const jobEvents = `${stack.prefix}:${keys.bullQueueName('demo')}:events`;
    try {
      for (const key of lookups) {
        if (await redis.exists(key)) await redis.rename(key, saved(key));
        await redis.set(key, 'not a hash');
      }
      const [[lastEvent] = ['0-0']] = await redis.xrevrange(jobEvents, '+', '-', 'COUNT', 1);
      assert.equal((await stack.api.post('/v1/executions', { task: 'demo.noop' })).status, 500);
      assert.equal((await stack.api.post('/v1/executions/batch', { executions: [{ task: 'demo.noop' }, { task: 'demo.noop' }] })).status, 500);
      const added = (await redis.xrange(jobEvents, `(${lastEvent}`, '+')).filter(([, fields]) => fields[1] === 'added');
      assert.deepEqual(added, [], 'no job was added');
    } finally {
      for (const key of lookups) {
        await redis.del(key);
        if (await redis.exists(saved(key))) await redis.rename(saved(key), key);
      }
      redis.disconnect();
    }
  });

  it("answers an execution it made even when counting it in the tenant's usage failed, and keeps its idempotency key", async () => {
    const redis = stack.redis.connect();
    const today = new RedisKeys(stack.prefix).tenantExecutionsOn('default', new Date().toISOString().slice(0, 10));
    const count = await redis.get(today);
    try {
      // The day's count is of the wrong type: counting fails, beside writes that succeed.
      await redis.del(today);
      await redis.hset(today, 'not', 'a count');
      const body = { task: 'demo.noop' };
      const first = await stack.api.request('POST', '/v1/executions', body, { 'idempotency-key': 'counted-or-not' });
      assert.equal(first.status, 202);
      // Redis is whole again when the client sends it again.
      await redis.del(today);
      const again = await stack.api.request('POST', '/v1/executions', body, { 'idempotency-key': 'counted-or-not' });
      assert.equal(again.body.id, first.body.id, 'a repeat returns the first execution, not a new one');
    } finally {
      await redis.del(today);
      if (count !== null) await redis.set(today, count);
      redis.disconnect();
    }
  });
});
