import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limitTooSmallFor, nearestExhaustion, secondsToNextUtcDay, utcDay, type LimitUse } from './limit-use.js';

describe('UTC days', () => {
  const cases: [string, string, number][] = [
    ['2026-11-30T00:00:00.000Z', '2026-11-30', 86_400],
    ['2026-11-30T00:00:00.001Z', '2026-11-30', 86_400],
    ['2026-11-30T12:00:00.000Z', '2026-11-30', 43_200],
    ['2026-11-30T23:59:59.000Z', '2026-11-30', 1],
    ['2026-11-30T23:59:59.999Z', '2026-11-30', 1],
    ['2026-12-31T23:59:30.000Z', '2026-12-31', 30],
    ['2028-02-29T06:00:00.000Z', '2028-02-29', 64_800],
  ];
  for (const [moment, day, seconds] of cases) {
    it(`${moment} counts toward ${day}, which ends ${seconds} s later`, () => {
      assert.equal(utcDay(Date.parse(moment)), day);
      assert.equal(secondsToNextUtcDay(Date.parse(moment)), seconds);
    });
  }
});

describe('nearestExhaustion', () => {
  const perSecond = (used: number): LimitUse => ({ name: 'submitsPerSecond', limit: 10, used, resetSeconds: 1 });
  const perDay = (used: number): LimitUse => ({ name: 'executionsPerDay', limit: 1000, used, resetSeconds: 3600 });
  const queued = (used: number): LimitUse => ({ name: 'maxQueued', limit: 50, used, resetSeconds: 1 });
  const cases: [string, LimitUse[], object | null][] = [
    ['no limit: nothing to tell', [], null],
    ['one limit', [perSecond(3)], { limit: 10, remaining: 7, resetSeconds: 1 }],
    ['the fewest left wins, not the highest share used', [perSecond(5), perDay(993)], { limit: 10, remaining: 5, resetSeconds: 1 }],
    ['the day when fewer are left of it', [perSecond(1), perDay(996), queued(2)], { limit: 1000, remaining: 4, resetSeconds: 3600 }],
    ['on a tie, the one that comes back later', [perSecond(10), perDay(1000)], { limit: 1000, remaining: 0, resetSeconds: 3600 }],
    ['a limit lowered below its use shows 0 left', [queued(80)], { limit: 50, remaining: 0, resetSeconds: 1 }],
  ];
  for (const [label, uses, expected] of cases) {
    it(label, () => assert.deepEqual(nearestExhaustion(uses), expected));
  }
});

describe('limitTooSmallFor', () => {
  const cases: [string, object, number, string | undefined][] = [
    ['no limits', {}, 1000, undefined],
    ['a batch as large as the limit fits', { submitsPerSecond: 5 }, 5, undefined],
    ['one more than per second', { submitsPerSecond: 5 }, 6, 'submitsPerSecond'],
    ['more than a day allows', { executionsPerDay: 100, submitsPerSecond: 500 }, 101, 'executionsPerDay'],
    ['more than may wait', { maxQueued: 3 }, 4, 'maxQueued'],
    ['maxRunning never refuses a batch', { maxRunning: 1 }, 10, undefined],
  ];
  for (const [label, limits, count, expected] of cases) {
    it(label, () => assert.equal(limitTooSmallFor(limits, count), expected));
  }
});
