import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConveyorEvent } from '@conveyor/contracts';
import { fieldOf } from './event-relay.js';
import { ExecutionFeed, type EventSink } from './execution-feed.js';

const event = (seq: number | undefined, type = 'execution.progress') =>
  ({ v: 1, type, executionId: 'exec_1', queue: 'demo', tenant: 'default', seq, ts: '', data: {} }) as unknown as ConveyorEvent;

function sink(id = 's1') {
  const received: (number | undefined)[] = [];
  const target: EventSink = { id, emit: (_type, e) => received.push(e.seq) };
  return { target, received };
}

const noStore = async () => [];

describe('ExecutionFeed', () => {
  it('sends stored events, then what arrived while catching up, each once and in order', () => {
    const feed = new ExecutionFeed(noStore, () => undefined);
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
    const feed = new ExecutionFeed(noStore, () => undefined);
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(undefined, 'execution.log'));
    feed.deliver(event(2));
    assert.deepEqual(received, [1, undefined, 2]);
  });

  it('fills a gap from the event log', async () => {
    const stored = [event(2), event(3), event(4)];
    let asked = -1;
    const feed = new ExecutionFeed(async (since) => {
      asked = since;
      return stored.filter((e) => e.seq! > since);
    }, () => undefined);
    const { target, received } = sink();
    feed.attach(target).catchUp(0, [event(1)]);
    feed.deliver(event(4));
    feed.deliver(event(5));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(asked, 1);
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
  });

  it('forgets a detached subscriber', () => {
    const feed = new ExecutionFeed(noStore, () => undefined);
    const { target, received } = sink();
    feed.attach(target).catchUp(0, []);
    feed.detach(target.id);
    feed.deliver(event(1));
    assert.deepEqual(received, []);
    assert.equal(feed.isEmpty, true);
  });
});

describe('fieldOf', () => {
  it('reads ids from an envelope without parsing it', () => {
    const message = '{"v":1,"type":"execution.started","executionId":"exec_01ABC","scheduleId":"sch_01XYZ","queue":"demo"}';
    assert.equal(fieldOf(message, 'executionId'), 'exec_01ABC');
    assert.equal(fieldOf(message, 'scheduleId'), 'sch_01XYZ');
    assert.equal(fieldOf('{"v":1,"type":"schedule.fired"}', 'executionId'), null);
  });
});
