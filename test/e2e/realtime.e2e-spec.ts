import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import { ExecutionWatcher, Stack } from '@conveyor/testing';

// What each socket receives is the subject here: raw socket.io clients (the client SDK would drop
// a repeated event, and replays and resubscribes by itself); submissions go through the SDK.
describe('realtime across several monitors', () => {
  let stack: Stack;
  let client: ConveyorClient;
  const watchers: ExecutionWatcher[] = [];

  before(async () => {
    stack = await Stack.start({ monitors: 2 });
    client = stack.client();
    for (const monitor of [stack.monitors[0], stack.monitors[0], stack.monitors[1]]) {
      watchers.push(await ExecutionWatcher.connect(monitor.url!));
    }
  });
  after(async () => {
    watchers.forEach((watcher) => watcher.close());
    client?.close();
    await stack?.stop();
  });

  it('delivers every event once to each client, whichever monitor it is on', async () => {
    const { id } = await client.submit('demo.steps', { steps: 8, stepMs: 40 });
    for (const watcher of watchers) assert.equal((await watcher.subscribe(id, 0)).ok, true);
    const ends = await Promise.all(watchers.map((watcher) => watcher.waitForEnd(id)));
    const last = ends[0].seq!;
    for (const watcher of watchers) {
      assert.deepEqual(
        watcher.seqs(id),
        Array.from({ length: last }, (_, i) => i + 1),
      );
    }
  });

  it('replays from `since` and sends nothing twice when a client subscribes again', async () => {
    const [watcher] = watchers;
    const { id } = await client.submit('demo.steps', { steps: 3, stepMs: 0 });
    await watcher.subscribe(id, 0);
    const end = await watcher.waitForEnd(id);

    const again = await ExecutionWatcher.connect(stack.monitors[1].url!);
    try {
      const ack = await again.subscribe(id, 2);
      assert.ok(ack.ok);
      assert.equal(ack.snapshot.status, 'completed');
      await again.waitForEnd(id);
      assert.deepEqual(
        again.seqs(id),
        Array.from({ length: end.seq! - 2 }, (_, i) => i + 3),
      );
    } finally {
      again.close();
    }
  });

  it('relays queue and tenant rooms: a snapshot of counts, then live state events, each once per socket', async () => {
    const queueWatcher = await ExecutionWatcher.connect(stack.monitorUrl);
    const everything = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      const queueAck = await queueWatcher.socket.timeout(5000).emitWithAck('subscribe', { queue: 'demo' });
      assert.equal(queueAck.ok, true);
      assert.deepEqual(Object.keys(queueAck.snapshot.counts).sort(), ['cancelled', 'completed', 'failed', 'paused', 'queued', 'running', 'scheduled']);
      for (const request of [{ tenant: true }, { queue: 'demo' }]) {
        assert.equal((await everything.socket.timeout(5000).emitWithAck('subscribe', request)).ok, true);
      }
      const steps = await client.submit('demo.steps', { steps: 2, stepMs: 50 });
      // Without `since`, the execution's own events pick up after its snapshot.
      const ack = await everything.subscribe(steps.id);
      assert.ok(ack.ok);
      const other = await client.submit('http.request', { url: 'http://127.0.0.1:9/' }, { attempts: 1 });

      await queueWatcher.waitForEnd(steps.id);
      await everything.waitForEnd(steps.id);
      await everything.waitForEnd(other.id);
      assert.equal(queueWatcher.of(other.id).length, 0, 'another queue’s events stay out of the queue room');
      assert.equal(queueWatcher.of(steps.id).some((e) => e.type === 'execution.log'), false, 'no log lines in rooms');
      const seqs = everything.seqs(steps.id);
      assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), 'once each, in order, although three subscriptions match');
      const afterSnapshot = seqs.filter((seq) => seq > ack.snapshot.seq);
      assert.deepEqual(afterSnapshot, afterSnapshot.map((_, i) => ack.snapshot.seq + 1 + i), 'nothing missing after the snapshot');
      assert.equal(everything.of(steps.id).at(-1)?.type, 'execution.completed');
      const otherSeqs = everything.seqs(other.id);
      assert.equal(new Set(otherSeqs).size, otherSeqs.length, 'the tenant room sends each event once');
      assert.equal((await queueWatcher.socket.timeout(5000).emitWithAck('subscribe', { queue: 'nope' })).ok, false);
    } finally {
      queueWatcher.close();
      everything.close();
    }
  });

  it("stops sending a room's events after the room is left", async () => {
    const leaving = await ExecutionWatcher.connect(stack.monitorUrl);
    const staying = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      for (const watcher of [leaving, staying]) assert.ok((await watcher.subscribeRoom({ queue: 'demo' })).ok);
      const first = await client.submit('demo.noop', { payload: 1 });
      await leaving.waitForEnd(first.id);
      assert.ok((await leaving.socket.timeout(5000).emitWithAck('unsubscribe', { queue: 'demo' })).ok);
      const second = await client.submit('demo.noop', { payload: 2 });
      await staying.waitForEnd(second.id);
      // The same socket's next request is answered after anything sent to it before.
      assert.ok((await leaving.subscribeRoom({ tenant: true })).ok);
      assert.deepEqual(leaving.of(second.id), []);
    } finally {
      leaving.close();
      staying.close();
    }
  });

  it('stops sending after unsubscribe', async () => {
    const watcher = watchers[2];
    const { id } = await client.submit('demo.steps', { steps: 4, stepMs: 100 });
    await watcher.subscribe(id, 0);
    await watcher.waitFor('execution.started', (e) => e.executionId === id);
    assert.deepEqual(await watcher.socket.timeout(5000).emitWithAck('unsubscribe', { execution: id }), { ok: true });
    const seen = watcher.of(id).length;
    await client.watch(id).done;
    assert.equal(watcher.of(id).length, seen);
  });

  it('sends nothing after an unsubscribe, even one that comes before the subscription is answered', async () => {
    const watcher = watchers[2];
    const { id } = await client.submit('demo.steps', { steps: 4, stepMs: 50 });
    const [subscribed, unsubscribed] = await Promise.all([
      watcher.subscribe(id, 0),
      // What had come when the unsubscribe was answered, counted at that very moment.
      new Promise<{ ack: unknown; seen: number }>((resolve) =>
        watcher.socket.timeout(5000).emit('unsubscribe', { execution: id }, (_error: Error | null, ack: unknown) => resolve({ ack, seen: watcher.of(id).length })),
      ),
    ]);
    assert.deepEqual(unsubscribed.ack, { ok: true });
    if (!subscribed.ok) assert.equal(subscribed.code, 'unsubscribed');
    await client.watch(id).done;
    assert.equal(watcher.of(id).length, unsubscribed.seen, 'no event after the unsubscribe');
  });

  it('keeps a socket’s feed when it subscribes again to what it follows, and sends the second subscription what it lacks', async () => {
    const watcher = watchers[1];
    const { id } = await client.submit('demo.steps', { steps: 6, stepMs: 100 });
    await watcher.subscribe(id, 0);
    await watcher.waitFor('execution.progress', (e) => e.executionId === id);
    const ack = await watcher.subscribe(id, 0);
    assert.ok(ack.ok);
    const end = await watcher.waitForEnd(id);
    // Events 1..n come twice (the first feed, then the second subscription's replay up to where the
    // feed had got); every later one once, from the feed that went on.
    const seqs = watcher.seqs(id);
    const repeated = seqs.filter((seq, i) => seqs.indexOf(seq) !== i);
    assert.deepEqual([...new Set(seqs)], Array.from({ length: end.seq! }, (_, i) => i + 1));
    assert.deepEqual(repeated, Array.from({ length: repeated.length }, (_, i) => i + 1));
    assert.ok(repeated.length >= 3 && repeated.length < end.seq!, `repeated ${repeated.join(',')} of ${end.seq}`);
  });
});
