import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisServer } from '@conveyor/launcher';
import { poll } from '@conveyor/testing';
import { onceAnInterval, whileLeased } from '../../services/worker/src/runtime/periodic.js';

/**
 * The lock by which one worker of many takes a periodic turn (a sweep, a reconciliation), against a
 * real Redis. Time is what these test: turns last set fractions of the lock's hold.
 */
describe('a periodic turn’s lock', () => {
  let server: RedisServer;
  /** Two processes' connections. */
  let mine: Redis;
  let theirs: Redis;
  // Long enough that a busy machine's late timer does not let the lock lapse between renewals (every
  // third of it): with a hold of 1 s, a timer 0.7 s late under a full CI run did.
  const holdMs = 3_000;
  let locks = 0;
  const newLock = () => `lock-${++locks}`;

  /** A turn of mine on `lock`: it runs until `end` is called; `running` resolves once it has started. */
  const myTurn = (lock: string) => {
    let end!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const done = onceAnInterval(mine, lock, holdMs, () => {
      started();
      return new Promise<void>((resolve) => (end = resolve));
    });
    return { running, done, end: () => end() };
  };
  /** Whether another process takes `lock` now (and runs its turn). */
  const theyTake = async (lock: string) => {
    let ran = false;
    await onceAnInterval(theirs, lock, holdMs, async () => void (ran = true));
    return ran;
  };

  before(async () => {
    server = await RedisServer.start();
    mine = new Redis(server.url);
    theirs = new Redis(server.url);
  });
  after(async () => {
    mine?.disconnect();
    theirs?.disconnect();
    await server?.stop();
  });

  it('is held while a turn runs past the hold, so no other process takes it, and freed as that turn ends', async () => {
    const lock = newLock();
    const turn = myTurn(lock);
    await turn.running;
    // The other process tries every half hold, over three holds.
    for (let attempt = 0; attempt < 6; attempt++) {
      await setTimeout(holdMs / 2);
      assert.equal(await theyTake(lock), false, `another process took the lock while the turn ran (attempt ${attempt})`);
    }
    turn.end();
    await turn.done;
    assert.equal(await theyTake(lock), true, 'the lock outlived the turn that ran past its hold');
  });

  it('after a turn shorter than the hold, stays held to the hold’s end and no longer, though renewed meanwhile', async () => {
    const lock = newLock();
    const startedBefore = Date.now();
    const turn = myTurn(lock);
    await turn.running;
    // Past the first renewal (a third of the hold), which pushed the lapse a hold further.
    await setTimeout(0.6 * holdMs);
    turn.end();
    await turn.done;
    assert.equal(await theyTake(lock), false, 'a short turn let the lock go before its interval ended');
    await setTimeout(startedBefore + 1.1 * holdMs - Date.now());
    assert.equal(await theyTake(lock), true, 'the renewal held the lock past the hold after the turn ended');
  });

  it('leaves alone a lock that lapsed and was taken by another process', async () => {
    const lock = newLock();
    const turn = myTurn(lock);
    await turn.running;
    // As after a stall of this process longer than the hold: the lock is another's, for longer than a hold.
    await theirs.set(lock, 'another process', 'PX', 5 * holdMs);
    await setTimeout((2 / 3) * holdMs);
    assert.ok((await theirs.pttl(lock)) > holdMs, 'a renewal shortened the other process’s lock to its own hold');
    turn.end();
    await turn.done;
    assert.equal(await theirs.get(lock), 'another process', 'the turn’s end let go of the other process’s lock');
  });

  it('leases work to one process at a time: stopped when its lease is lost, handed over when it ends by itself', async () => {
    const lock = newLock();
    // Long, so that only a lock let go (not one lapsed) is taken by the other process within the test's waits.
    const leaseMs = 30_000;
    const seen: string[] = [];
    const errors: unknown[] = [];
    const onError = (err: unknown) => void errors.push(err);
    let mineEnded!: () => void;
    const work = (who: string) => async (ended: () => void) => {
      seen.push(`${who} started`);
      if (who === 'mine') mineEnded = ended;
      return async () => void seen.push(`${who} stopped`);
    };
    const until = (what: string) => poll(async () => seen, { until: (all) => all.includes(what), label: what, timeoutMs: leaseMs / 2 });
    const stops = [whileLeased(mine, lock, leaseMs, work('mine'), onError)];
    await until('mine started');
    const mineToken = await mine.get(lock);
    stops.push(whileLeased(theirs, lock, leaseMs, work('theirs'), onError));
    // Mine's work ends by itself: it is stopped and the lock let go, for theirs.
    mineEnded();
    await until('theirs started');
    assert.deepEqual(seen, ['mine started', 'mine stopped', 'theirs started']);
    assert.notEqual(await mine.get(lock), mineToken);
    // The lock lapses and is another's: their renewal finds it gone and stops their work.
    await mine.set(lock, 'another process');
    await until('theirs stopped');
    await Promise.all(stops.map((stop) => stop()));
    assert.deepEqual(seen, ['mine started', 'mine stopped', 'theirs started', 'theirs stopped']);
    assert.equal(await mine.get(lock), 'another process', 'a lock not theirs is left alone');
    assert.deepEqual(errors, []);
  });
});
