import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldMinute, lastHour, minuteOf } from './queue-stats.js';

describe('queue stats', () => {
  it('covers the 60 minutes up to now, oldest first', () => {
    const now = Date.parse('2026-11-30T12:34:56Z');
    const minutes = lastHour(now);
    assert.equal(minutes.length, 60);
    assert.equal(minutes.at(-1), minuteOf(now));
    assert.equal(new Date(minutes[0] * 60_000).toISOString(), '2026-11-30T11:35:00.000Z');
  });

  it('sums the tenants and reads percentiles from the wait buckets, each its bucket’s middle', () => {
    // Bucket b holds [2^((b-1)/4), 2^(b/4)) ms: 37 holds 512–609 ms, 45 holds 2,048–2,435 ms.
    const minute = foldMinute(minuteOf(0), [
      { completed: '3', failed: '1', w0: '1', w37: '8' },
      { completed: '2', w45: '1' },
    ]);
    assert.deepEqual(minute, {
      at: '1970-01-01T00:00:00.000Z',
      completed: 5,
      failed: 1,
      started: 10,
      waitP50Ms: Math.round(2 ** (36.5 / 4)),
      waitP95Ms: Math.round(2 ** (44.5 / 4)),
    });
    assert.ok(minute.waitP50Ms! >= 512 && minute.waitP50Ms! < 609);
  });

  it('takes the lowest bucket for a wait under a millisecond, and leaves percentiles null without starts', () => {
    assert.equal(foldMinute(0, [{ w0: '4' }]).waitP95Ms, 0);
    assert.deepEqual(foldMinute(0, [{}, { failed: '2' }]), { at: '1970-01-01T00:00:00.000Z', completed: 0, failed: 2, started: 0, waitP50Ms: null, waitP95Ms: null });
  });
});
