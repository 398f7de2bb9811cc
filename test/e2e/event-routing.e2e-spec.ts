import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ulid } from 'ulid';
import type { ConveyorClient } from '@conveyor/client';
import { demoNoop, encodePublished, eventEnvelope, scheduleQueue } from '@conveyor/contracts';
import { RedisKeys } from '@conveyor/redis';
import { ExecutionWatcher, poll, Stack } from '@conveyor/testing';

// The monitor routes each event by what the server set in its envelope, never by what users put in
// inputs and results; and a feed that finds a gap its log cannot fill skips it instead of reading the
// log again and again. Raw socket.io clients: what each socket receives is the subject.
describe('event routing', () => {
  let stack: Stack;
  let client: ConveyorClient;
  let redis: Redis;
  const watchers: ExecutionWatcher[] = [];

  before(async () => {
    stack = await Stack.start();
    client = stack.client();
    redis = stack.redis.connect();
  });
  after(async () => {
    watchers.forEach((watcher) => watcher.close());
    client?.close();
    redis?.disconnect();
    await stack?.stop();
  });

  const watcher = async () => {
    const connected = await ExecutionWatcher.connect(stack.monitorUrl);
    watchers.push(connected);
    return connected;
  };
  const completedNoop = async (payload: unknown) => {
    const { id } = await client.submit('demo.noop', { payload });
    return poll(() => client.get(id), { until: (e) => e.status === 'completed', label: `${id} to complete` });
  };
  /** Edits the schedule and waits until the schedule's follower has the edit: every event published before it was relayed. */
  const edit = async (follower: ExecutionWatcher, id: string, patch: Record<string, unknown>) => {
    const { seq } = await client.schedules.update(id, patch);
    await follower.waitFor('schedule.updated', (e) => e.scheduleId === id && e.seq === seq);
  };
  /**
   * How many times Redis was asked to read an event log: each read runs one LINDEX (BullMQ runs it
   * only in its list, count and promote scripts, which nothing here calls).
   */
  const logReads = () => stack.redis.calls(redis, 'lindex');

  it("does not send a schedule's followers an execution whose input names the schedule", async () => {
    const schedule = await client.schedules.create({ name: 'followed', task: 'demo.noop', input: { payload: 1 } });
    const follower = await watcher();
    assert.equal((await follower.subscribeSchedule(schedule.id)).ok, true);

    const impostor = await completedNoop({ scheduleId: schedule.id });
    await edit(follower, schedule.id, { input: { payload: 2 } });
    assert.deepEqual(follower.of(impostor.id), []);
  });

  it("leaves an execution's followers alone when a schedule's input names the execution, and stops reading the log", async () => {
    const followed = await completedNoop('followed');
    const schedule = await client.schedules.create({ name: 'naming an execution', task: 'demo.noop', input: { payload: 0 } });
    const [executionFollower, scheduleFollower] = [await watcher(), await watcher()];
    assert.equal((await scheduleFollower.subscribeSchedule(schedule.id)).ok, true);
    // The schedule's seq passes the execution's by more than one, so a misrouted event would be a gap.
    for (let n = 1; n <= followed.seq + 2; n++) await edit(scheduleFollower, schedule.id, { input: { payload: n } });
    assert.equal((await executionFollower.subscribe(followed.id)).ok, true);

    await edit(scheduleFollower, schedule.id, { input: { payload: { executionId: followed.id } } });
    const readsBefore = await logReads();
    // Schedule events no longer carry the input, so the data that names the execution is forged too:
    // an event of a schedule nobody follows, numbered past the execution (misrouted, it would be a gap).
    const forged = eventEnvelope(
      { type: 'schedule.paused', scheduleId: `sch_${ulid()}`, queue: scheduleQueue, tenant: 'default', data: { executionId: followed.id } as never },
      followed.seq + 5,
    );
    await redis.spublish(new RedisKeys(stack.prefix).eventsChannel(scheduleQueue), encodePublished(forged));
    await edit(scheduleFollower, schedule.id, { tags: ['barrier'] });
    assert.equal(await logReads(), readsBefore, 'no event log is read while nothing is missing');
    assert.deepEqual(
      executionFollower.events.filter((e) => e.type.startsWith('schedule.')),
      [],
    );
  });

  it('skips a gap its event log cannot fill after one read, then follows on', async () => {
    const followed = await completedNoop('gap');
    const follower = await watcher();
    assert.equal((await follower.subscribe(followed.id)).ok, true);
    const channel = new RedisKeys(stack.prefix).eventsChannel(demoNoop.queue);
    const progress = (seq: number) =>
      encodePublished(
        eventEnvelope({ type: 'execution.progress', executionId: followed.id, queue: demoNoop.queue, task: demoNoop.name, tenant: 'default', data: { percent: seq } }, seq),
      );

    // As if the events between had been lost and trimmed from the log.
    await redis.spublish(channel, progress(followed.seq + 5));
    await follower.waitFor('execution.progress', (e) => e.seq === followed.seq + 5);
    const readsBefore = await logReads();
    await redis.spublish(channel, progress(followed.seq + 6));
    await follower.waitFor('execution.progress', (e) => e.seq === followed.seq + 6);
    assert.equal(await logReads(), readsBefore, 'the log is not read again');
    assert.deepEqual(follower.seqs(followed.id).slice(-2), [followed.seq + 5, followed.seq + 6]);
  });
});
