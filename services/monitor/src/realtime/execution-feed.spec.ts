import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConveyorEvent } from '@conveyor/contracts';
import { ExecutionFeed, type EventSink } from './execution-feed.js';

const event = (seq: number | undefined, type = 'execution.progress', executionId = 'exec_1') =>
  ({ v: 1, type, executionId, queue: 'demo', tenant: 'default', seq, ts: '', data: {} }) as unknown as ConveyorEvent;

const newFeed = (readSince: (since: number) => Promise<ConveyorEvent[]> = noStore) => new ExecutionFeed('execution:exec_1', readSince, () => undefined);

/** A feed whose event log has nothing to add, counting how often it is read. */
function feedOverEmptyLog() {
  let reads = 0;
  const feed = newFeed(async () => {
    reads++;
    return [];
  });
  return { feed, reads: () => reads };
}

/** Lets pending reads of the event log answer. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function sink(id = 's1') {
  const received: (number | undefined)[] = [];
  const target: EventSink = { id, emit: (_type, e) => received.push(e.seq) };
  return { target, received };
}

const noStore = async (): Promise<ConveyorEvent[]> => [];

describe('ExecutionFeed', () => {
  it('sends stored events, then what arrived while catching up, each once and in order', () => {
    const feed = newFeed();
    const { target, received } = sink();
    const subscriber = feed.attach(target);
    feed.deliver(event(4));
    feed.deliver(event(5));
    subscriber.catchUp(1, [event(2), event(3), event(4)]);
    feed.deliver(event(5));
    feed.deliver(event(6));
    assert.deepEqual(received, [2, 3, 4, 5, 6]);
  });

  it('passes live-only events through without a seq', () => {
    const feed = newFeed();
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(undefined, 'execution.log'));
    feed.deliver(event(2));
    assert.deepEqual(received, [1, undefined, 2]);
  });

  it('fills a gap from the event log', async () => {
    const stored = [event(2), event(3), event(4)];
    let asked = -1;
    const feed = newFeed(async (since) => {
      asked = since;
      return stored.filter((e) => e.seq! > since);
    });
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(4));
    feed.deliver(event(5));
    await settle();
    assert.equal(asked, 1);
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
  });

  it('forgets a detached subscriber', () => {
    const feed = newFeed();
    const { target, received } = sink();
    feed.attach(target).catchUp(0, []);
    feed.detach(target.id);
    feed.deliver(event(1));
    assert.deepEqual(received, []);
    assert.equal(feed.isEmpty, true);
  });

  it('skips a gap the log cannot fill, after one refill, and goes on', async () => {
    const { feed, reads } = feedOverEmptyLog();
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(5));
    await settle();
    feed.deliver(event(6));
    feed.deliver(event(9));
    await settle();
    assert.equal(reads(), 2);
    assert.deepEqual(received, [1, 5, 6, 9]);
  });

  it('sends nothing more to a subscriber detached while its refill was under way', async () => {
    let answer: (events: ConveyorEvent[]) => void = () => undefined;
    const feed = newFeed(() => new Promise((resolve) => (answer = resolve)));
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(3));
    feed.detach(target.id);
    answer([event(2), event(3)]);
    await settle();
    assert.deepEqual(received, [1]);
  });

  it('reads the log again when a refill fails, and fills the gap once it answers', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let reads = 0;
    const feed = newFeed(async (since) => {
      if (++reads < 3) throw new Error('Redis is away');
      return [event(2), event(3)].filter((e) => e.seq! > since);
    });
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(3));
    for (let tick = 0; tick < 2; tick++) {
      await settle();
      t.mock.timers.tick(1000);
    }
    await settle();
    assert.equal(reads, 3);
    assert.deepEqual(received, [1, 2, 3]);
  });

  it('sends a trimmed log from where it starts, without refilling', () => {
    const { feed, reads } = feedOverEmptyLog();
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(7), event(8)]);
    feed.deliver(event(9));
    assert.equal(reads(), 0);
    assert.deepEqual(received, [7, 8, 9]);
  });

  it('never orders, drops or refills for a numbered event of another subject', async () => {
    const { feed, reads } = feedOverEmptyLog();
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(40, 'schedule.updated', 'exec_2'));
    feed.deliver(event(2));
    await settle();
    assert.equal(reads(), 0);
    assert.deepEqual(received, [1, 40, 2]);
  });
});
