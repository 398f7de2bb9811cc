import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRetryable, maxRetryWaitMs, minRetryWaitMs, parseRetryAfter, retryWait, wantsEvent } from './delivery-policy.js';

describe('webhook delivery policy', () => {
  it('retries network errors, 408, 429 and 5xx, never other answers', () => {
    assert.deepEqual([null, 408, 429, 500, 503].map(isRetryable), [true, true, true, true, true]);
    assert.deepEqual([200, 301, 400, 401, 404, 410].map(isRetryable), [false, false, false, false, false, false]);
  });

  it('doubles from the base, caps at an hour and ends at the horizon', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => retryWait(n, 100, 10_000, null)), [100, 200, 400, 800]);
    assert.equal(retryWait(40, 10_000, Infinity, null), maxRetryWaitMs);
    assert.equal(retryWait(3, 100, 250, null), 250);
    assert.equal(retryWait(1, 100, 0, null), null);
  });

  it("honours Retry-After, within the same caps", () => {
    assert.equal(retryWait(1, 100, 10_000, 3_000), 3_000);
    assert.equal(retryWait(1, 100, 10_000, 60_000), 10_000);
    assert.equal(parseRetryAfter('2'), 2_000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfter('soon'), null);
    assert.equal(parseRetryAfter(undefined), null);
  });

  it('waits at least a second after a Retry-After of 0 or a past date', () => {
    assert.equal(retryWait(1, 100, 10_000, parseRetryAfter('0')), minRetryWaitMs);
    assert.equal(retryWait(1, 100, 10_000, parseRetryAfter(new Date(1_000).toUTCString(), 5_000)), minRetryWaitMs);
    assert.equal(retryWait(1, 100, 500, 0), 500);
  });

  it('matches the chosen types and every set filter', () => {
    const subject = { queue: 'demo', task: 'demo.noop', tags: ['a', 'b'] };
    const endpoint = (filters: object | null, enabled = true) => ({ enabled, events: ['execution.completed'], filters });
    assert.equal(wantsEvent(endpoint(null), 'execution.completed', subject), true);
    assert.equal(wantsEvent(endpoint(null), 'execution.failed', subject), false);
    assert.equal(wantsEvent(endpoint(null, false), 'execution.completed', subject), false);
    assert.equal(wantsEvent(endpoint({ queue: 'demo', task: 'demo.noop', tag: 'b' }), 'execution.completed', subject), true);
    assert.equal(wantsEvent(endpoint({ queue: 'http' }), 'execution.completed', subject), false);
    assert.equal(wantsEvent(endpoint({ task: 'demo.steps' }), 'execution.completed', subject), false);
    assert.equal(wantsEvent(endpoint({ tag: 'c' }), 'execution.completed', subject), false);
  });
});
