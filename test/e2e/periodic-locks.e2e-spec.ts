import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisServer } from '@conveyor/launcher';
import { poll } from '@conveyor/testing';
import { onceAnInterval } from '../../services/worker/src/runtime/periodic.js';

/** The lock by which one worker of many takes a periodic turn (a sweep, a reconciliation), against a real Redis. */
describe('a periodic turn’s lock', () => {
  let server: RedisServer;
  /** Two processes' connections. */
  let mine: Redis;
  let theirs: Redis;
  // Long enough that a busy machine's late timer does not let the lock lapse between renewals (every third of it).
  const holdMs = 1_000;

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

  it('is held while a turn runs past the hold, so no other process starts one beside it, and lapses after it', async () => {
    const lock = 'turn-past-its-hold';
    let end!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const turn = onceAnInterval(mine, lock, holdMs, () => {
      started();
      return new Promise<void>((resolve) => (end = resolve));
    });
    await running;
    // Time is what this tests: the other process tries every half hold, over three holds.
    let theirTurns = 0;
    const theirTurn = () => onceAnInterval(theirs, lock, holdMs, async () => void theirTurns++);
    for (let attempt = 0; attempt < 6; attempt++) {
      await setTimeout(holdMs / 2);
      await theirTurn();
    }
    assert.equal(theirTurns, 0, 'another process took the lock while the turn ran');
    end();
    await turn;
    // Renewed no more, it lapses within a hold: the next interval's turn is theirs.
    await poll(() => theirTurn().then(() => theirTurns), { until: (n) => n === 1, label: 'their turn once the lock lapsed', timeoutMs: 10 * holdMs, intervalMs: holdMs / 4 });
  });
});
