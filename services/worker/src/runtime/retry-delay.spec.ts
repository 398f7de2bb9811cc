import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelay } from './retry-delay.js';

describe('retryDelay', () => {
  it('doubles exponential waits per failed attempt', () => {
    const policy = { type: 'exponential' as const, delayMs: 100 };
    assert.deepEqual([1, 2, 3, 4].map((attempt) => retryDelay(policy, attempt)), [100, 200, 400, 800]);
  });

  it('keeps fixed waits fixed', () => {
    assert.deepEqual([1, 5].map((attempt) => retryDelay({ type: 'fixed', delayMs: 250 }, attempt)), [250, 250]);
  });

  it('draws jittered waits from [wait × (1 − jitter), wait]', () => {
    const policy = { type: 'exponential' as const, delayMs: 1000, jitter: 0.5 };
    assert.equal(retryDelay(policy, 3, () => 0), 4000);
    assert.equal(retryDelay(policy, 3, () => 1), 2000);
    assert.equal(retryDelay(policy, 3, () => 0.5), 3000);
  });

  it('waits the n-th custom delay for the n-th retry, the last one repeating', () => {
    const policy = { type: 'custom' as const, delaysMs: [1000, 5000, 15000] };
    assert.deepEqual([1, 2, 3, 4, 9].map((attempt) => retryDelay(policy, attempt)), [1000, 5000, 15000, 15000, 15000]);
  });
});
