import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliveryBackoff, RetryLater } from './webhook-sender.js';

describe('webhook delivery backoff', () => {
  const settings = { retryBaseMs: 100, retryHorizonMs: 10_000 };

  it('waits as the attempt planned', () => {
    assert.equal(deliveryBackoff(1, new RetryLater(2_500, 'HTTP 503'), { createdAt: 0 }, settings, 0), 2_500);
  });

  it('retries an unplanned error (Redis failing for a moment) with the normal doubling, within the horizon', () => {
    const blip = new Error('Connection is closed.');
    assert.deepEqual([1, 2, 3].map((failures) => deliveryBackoff(failures, blip, { createdAt: 0 }, settings, 1_000)), [100, 200, 400]);
    assert.equal(deliveryBackoff(8, blip, { createdAt: 0 }, settings, 9_990), 10);
    assert.equal(deliveryBackoff(1, blip, { createdAt: 0 }, settings, 10_000), -1);
  });
});
