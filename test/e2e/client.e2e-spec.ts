import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConveyorApiError, ConveyorClient, type ExecutionWatch } from '@conveyor/client';
import { queueCountsIntervalMs, type ConveyorEvent, type ExecutionStatus, type ExecutionView } from '@conveyor/contracts';
import { freePort } from '@conveyor/launcher';
import { EventLog, poll, Stack } from '@conveyor/testing';

/** The seqs a watch received, in order (log lines have none). */
const seqsOf = (watch: ExecutionWatch) => watch.events.flatMap((e) => (e.seq === undefined ? [] : [e.seq]));

describe('the client SDK', () => {
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

  it('submits, watches to the end and reads, every event once and in order, across a dropped connection', async () => {
    const execution = await client.submit('demo.steps', { steps: 10, stepMs: 100 }, { tags: ['sdk'] });
    let snapshot: ExecutionView | undefined;
    let dropped = false;
    const watch = client.watch(execution.id, {
      onSnapshot: (s) => (snapshot = s),
      onEvent: (event) => {
        // Drop the transport once, mid-run: socket.io reconnects and the watch subscribes again.
        if (!dropped && event.type === 'execution.progress' && (event as ConveyorEvent<'execution.progress'>).data.percent >= 30) {
          dropped = true;
          watch.connection.socket.io.engine.close();
        }
      },
    });
    let reconnects = 0;
    watch.connection.socket.io.on('reconnect', () => reconnects++);

    const final = await watch.done;
    assert.equal(reconnects, 1, 'the connection dropped and came back once');
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.result, { steps: 10 });
    const seqs = seqsOf(watch);
    assert.ok(snapshot);
    assert.deepEqual(seqs, Array.from({ length: final.seq - snapshot.seq }, (_, i) => snapshot!.seq + 1 + i));
    assert.equal(watch.events.at(-1)?.type, 'execution.completed');
  });

  it('resumes a watch without a gap when the monitor ends the session (shutting down) and another takes its place', async () => {
    const execution = await client.submit('demo.steps', { steps: 20, stepMs: 100 });
    let snapshot: ExecutionView | undefined;
    let replaced: Promise<unknown> | undefined;
    const watch = client.watch(execution.id, {
      onSnapshot: (s) => (snapshot = s),
      onEvent: (event) => {
        // The server ends the connection mid-run: the monitor stops and a new one starts on its port.
        if (!replaced && event.type === 'execution.progress') replaced = replaceMonitor();
      },
    });
    const disconnects: string[] = [];
    watch.connection.socket.on('disconnect', (reason) => disconnects.push(reason));

    const final = await watch.done;
    await replaced;
    assert.deepEqual(disconnects, ['io server disconnect'], 'the monitor ended the session once');
    assert.equal(final.status, 'completed');
    const seqs = seqsOf(watch);
    assert.deepEqual(seqs, Array.from({ length: final.seq - snapshot!.seq }, (_, i) => snapshot!.seq + 1 + i), 'every seq once, in order');
  });

  it('keeps each watch of one client whole while other watches of the same execution start and stop', async () => {
    const execution = await client.submit('demo.steps', { steps: 10, stepMs: 100 });
    const first = client.watch(execution.id, {}, { since: 0 });
    const second = client.watch(execution.id, {
      // At every step another watch of it starts and stops: the socket subscribes again each time,
      // and must not unsubscribe while the first two still watch.
      onEvent: (event) => event.type === 'execution.progress' && client.watch(execution.id).stop(),
    });
    const final = await first.done;
    await second.done;
    assert.deepEqual(seqsOf(first), Array.from({ length: final.seq }, (_, i) => i + 1), 'the first watch: every seq once');
    const secondSeqs = seqsOf(second);
    assert.deepEqual(secondSeqs, Array.from({ length: final.seq - secondSeqs[0] + 1 }, (_, i) => secondSeqs[0] + i), 'the second watch: no gap');
    assert.equal(second.events.at(-1)?.type, 'execution.completed');
  });

  it('passes each event of a followed room on once, even when a watch on the same socket replays it', async () => {
    const roomLog = new EventLog();
    const room = client.follow({ tenant: true }, roomLog);
    try {
      await room.joined;
      const execution = await client.submit('demo.noop', {});
      await roomLog.waitFor('execution.completed', (e) => e.executionId === execution.id);
      await client.watch(execution.id, {}, { since: 0 }).done;
      const seqs = roomLog.events.filter((e) => e.executionId === execution.id).map((e) => e.seq);
      assert.deepEqual(seqs, [...new Set(seqs)], `the room passed on ${seqs.join(',')}`);
    } finally {
      room.stop();
    }
  });

  it('follows a queue room: counts on joining, then live counts and the queue being paused and resumed', async () => {
    const counts: Record<ExecutionStatus, number>[] = [];
    const events: ConveyorEvent[] = [];
    const room = client.follow({ queue: 'demo' }, { onCounts: (c) => counts.push(c), onEvent: (e) => events.push(e) });
    try {
      const { counts: before } = await room.joined;
      assert.deepEqual(counts, [before]);
      const { items: runs } = await client.submitBatch(Array.from({ length: 20 }, () => ({ task: 'demo.noop' as const })));
      const liveCounts = () => events.filter((e): e is ConveyorEvent<'queue.counts'> => e.type === 'queue.counts');
      await poll(async () => liveCounts().at(-1)?.data.counts, {
        until: (now) => now?.completed === before.completed + runs.length && now.queued === before.queued && now.running === 0,
        label: 'queue.counts with every run completed',
      });
      const completed = new Set(events.filter((e) => e.type === 'execution.completed').map((e) => e.executionId));
      assert.deepEqual(runs.filter((run) => !completed.has(run.id)), [], 'state events come too');
      const sent = liveCounts();
      const span = Date.parse(sent.at(-1)!.ts) - Date.parse(sent[0].ts);
      assert.ok(sent.length <= Math.floor(span / queueCountsIntervalMs) + 1, `${sent.length} counts in ${span} ms: at most one per interval, not one per event`);

      await client.queues.pause('demo');
      await client.queues.resume('demo');
      const queueStates = await poll(async () => events.filter((e) => e.type === 'queue.paused' || e.type === 'queue.resumed'), {
        until: (found) => found.length === 2,
        label: 'queue.paused and queue.resumed',
      });
      assert.deepEqual(queueStates.map((e) => [e.type, e.queue, e.tenant]), [['queue.paused', 'demo', 'default'], ['queue.resumed', 'demo', 'default']]);
      await assert.rejects(client.follow({ queue: 'nope' }).joined, (error: unknown) => error instanceof ConveyorApiError && error.code === 'validation_failed');
    } finally {
      room.stop();
    }
  });

  it('replays the whole history with `since: 0`, past an earlier ending, and ends with the execution', async () => {
    const execution = await client.submit('demo.noop', {}, { delayMs: 60_000 });
    await client.cancel(execution.id);
    await client.retry(execution.id);
    const final = await client.watch(execution.id, {}, { since: 0 }).done.then(() => client.get(execution.id));
    assert.equal(final.status, 'completed');
    const watch = client.watch(execution.id, {}, { since: 0 });
    await watch.done;
    assert.deepEqual(watch.events.map((e) => e.seq), Array.from({ length: final.seq }, (_, i) => i + 1));
    assert.deepEqual(watch.events.map((e) => e.type), ['execution.queued', 'execution.cancelled', 'execution.retried', 'execution.started', 'execution.completed']);
  });

  it('answers with typed errors', async () => {
    await assert.rejects(client.get('exec_01M000000000000000000000ZZ'), (error: unknown) => error instanceof ConveyorApiError && error.statusCode === 404 && error.code === 'not_found');
    await assert.rejects(
      client.submit('demo.steps', { steps: 0, stepMs: 0 }),
      (error: unknown) => error instanceof ConveyorApiError && error.code === 'validation_failed' && error.details[0].path === 'input.steps',
    );
    await assert.rejects(client.watch('exec_01M000000000000000000000ZZ').done, (error: unknown) => error instanceof ConveyorApiError && error.code === 'not_found');
  });

  it('lists, cancels and retries', async () => {
    const execution = await client.submit('demo.noop', {}, { delayMs: 60_000, tags: ['sdk-list'] });
    const listed = await client.list({ tag: ['sdk-list'], status: ['scheduled'] });
    assert.deepEqual(listed.items.map((e) => e.id), [execution.id]);
    assert.equal((await client.cancel(execution.id, 'from the SDK')).status, 'cancelled');
    // The retried run may already be under way when the reply is written: follow it to its end.
    assert.notEqual((await client.retry(execution.id)).status, 'cancelled');
    assert.equal((await client.watch(execution.id).done).status, 'completed');
  });

  it('subscribes at the first connect when the monitor was out of reach until its subscriptions had timed out', async () => {
    const port = await freePort();
    const late = new ConveyorClient({ apiUrl: stack.gatewayUrl, monitorUrl: `http://127.0.0.1:${port}` });
    try {
      const execution = await late.submit('demo.noop', {}, { delayMs: 60_000 });
      const room = late.follow({ tenant: true });
      const watch = late.watch(execution.id);
      // socket.io drops a buffered request once its answer is overdue (10 s): nothing is left to send on connecting.
      const { socket } = late.connection();
      await poll(async () => socket.sendBuffer.length, { until: (left) => left === 0, label: 'the subscriptions to time out', timeoutMs: 30_000, intervalMs: 200 });
      assert.equal(socket.connected, false);

      await stack.startMonitor({ MONITOR_PORT: String(port) });
      await room.joined;
      await late.cancel(execution.id);
      assert.equal((await watch.done).status, 'cancelled');
    } finally {
      late.close();
    }
  });

  async function replaceMonitor(): Promise<void> {
    const [monitor] = stack.monitors.splice(0, 1);
    await monitor.process.stop('SIGTERM');
    await stack.startMonitor({ MONITOR_PORT: new URL(monitor.url!).port });
  }
});
