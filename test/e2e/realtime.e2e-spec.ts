import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExecutionWatcher, Stack } from '@conveyor/testing';

describe('realtime across several monitors', () => {
  let stack: Stack;
  const watchers: ExecutionWatcher[] = [];

  before(async () => {
    stack = await Stack.start({ monitors: 2 });
    for (const monitor of [stack.monitors[0], stack.monitors[0], stack.monitors[1]]) {
      watchers.push(await ExecutionWatcher.connect(monitor.url!));
    }
  });
  after(async () => {
    watchers.forEach((watcher) => watcher.close());
    await stack?.stop();
  });

  it('delivers every event once to each client, whichever monitor it is on', async () => {
    const reply = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 8, stepMs: 40 } });
    for (const watcher of watchers) assert.equal((await watcher.subscribe(reply.body.id, 0)).ok, true);
    const ends = await Promise.all(watchers.map((watcher) => watcher.waitForEnd(reply.body.id)));
    const last = ends[0].seq!;
    for (const watcher of watchers) {
      assert.deepEqual(
        watcher.seqs(reply.body.id),
        Array.from({ length: last }, (_, i) => i + 1),
      );
    }
  });

  it('replays from `since` and sends nothing twice when a client subscribes again', async () => {
    const [watcher] = watchers;
    const reply = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 3, stepMs: 0 } });
    await watcher.subscribe(reply.body.id, 0);
    const end = await watcher.waitForEnd(reply.body.id);

    const again = await ExecutionWatcher.connect(stack.monitors[1].url!);
    try {
      const ack = await again.subscribe(reply.body.id, 2);
      assert.ok(ack.ok);
      assert.equal(ack.snapshot.status, 'completed');
      await again.waitForEnd(reply.body.id);
      assert.deepEqual(
        again.seqs(reply.body.id),
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
      const steps = await stack.api.submit({ task: 'demo.steps', input: { steps: 2, stepMs: 50 } });
      // Without `since`, the execution's own events pick up after its snapshot.
      const ack = await everything.subscribe(steps.id);
      assert.ok(ack.ok);
      const other = await stack.api.submit({ task: 'http.request', input: { url: 'http://127.0.0.1:9/' }, attempts: 1 });

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

  it('stops sending after unsubscribe', async () => {
    const watcher = watchers[2];
    const reply = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 4, stepMs: 100 } });
    await watcher.subscribe(reply.body.id, 0);
    await watcher.waitFor((e) => e.executionId === reply.body.id && e.type === 'execution.started', 'the start');
    assert.deepEqual(await watcher.socket.timeout(5000).emitWithAck('unsubscribe', { execution: reply.body.id }), { ok: true });
    const seen = watcher.of(reply.body.id).length;
    await watchers[0].subscribe(reply.body.id, 0);
    await watchers[0].waitForEnd(reply.body.id);
    assert.equal(watcher.of(reply.body.id).length, seen);
  });
});
