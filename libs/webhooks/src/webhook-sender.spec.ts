import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { WebhookDeliveryAttempt } from '@conveyor/contracts';
import { EgressGuard, parseHostRules } from '@conveyor/egress';
import type { DeliveryJobData } from './delivery-job.js';
import type { WebhookStore } from './webhook-store.js';
import { deliveryBackoff, RetryLater, WebhookSender } from './webhook-sender.js';

describe('webhook delivery backoff', () => {
  const settings = { retryBaseMs: 100, retryHorizonMs: 10_000 };

  it('waits as the attempt planned', () => {
    assert.equal(deliveryBackoff(1, new RetryLater(2_500, 'HTTP 503'), { data: { firstAttemptAt: 0 } as DeliveryJobData, timestamp: 5_000 }, settings, 0), 2_500);
  });

  it('retries an unplanned error (Redis failing for a moment) with the normal doubling, within the horizon', () => {
    const blip = new Error('Connection is closed.');
    assert.deepEqual([1, 2, 3].map((failures) => deliveryBackoff(failures, blip, { data: { firstAttemptAt: 0 } as DeliveryJobData, timestamp: 5_000 }, settings, 1_000)), [100, 200, 400]);
    assert.equal(deliveryBackoff(8, blip, { data: { firstAttemptAt: 0 } as DeliveryJobData, timestamp: 5_000 }, settings, 9_990), 10);
    assert.equal(deliveryBackoff(1, blip, { data: { firstAttemptAt: 0 } as DeliveryJobData, timestamp: 5_000 }, settings, 10_000), -1);
  });

  it('counts the horizon from when the relay queued it when the first attempt was never noted', () => {
    const job = { data: {} as DeliveryJobData, timestamp: 5_000 };
    assert.equal(deliveryBackoff(1, new Error('Connection is closed.'), job, settings, 14_000), 100);
  });
});

describe('webhook sender at the horizon', () => {
  const settings = { retryBaseMs: 100, retryHorizonMs: 10_000 };
  /** A store that keeps what the sender does to it, for an enabled endpoint. */
  const fakeStore = () => {
    const calls: string[] = [];
    const store = {
      read: async () => ({ id: 'whk_1', url: 'http://receiver.example/hook', enabled: true, secret: 's', previousSecret: null, previousSecretUntil: null }),
      recordAttempt: async (_endpoint: string, _delivery: string, _attempt: unknown, status: string) => void calls.push(`record ${status}`),
      markDelivered: async () => void calls.push('delivered'),
      disable: async (_id: string, _reason: string, since: number) => void calls.push(`disable unless delivered since ${since}`),
    };
    return { calls, store: store as unknown as WebhookStore };
  };
  const unreachable = { check: async () => Promise.reject(new Error('connect ECONNREFUSED')) } as unknown as EgressGuard;
  const job = (data: Partial<DeliveryJobData>) => {
    const made = {
      attemptsMade: 0,
      data: { endpointId: 'whk_1', deliveryId: 'd1', eventType: 'execution.completed', subjectId: 'exec', body: '{}', createdAt: 0, ...data } as DeliveryJobData,
      updateData: async (next: DeliveryJobData) => void (made.data = next),
    };
    return made as unknown as Job<DeliveryJobData>;
  };

  it("retries a delivery whose event is older than the horizon (a relay's backlog): the horizon runs from its first attempt", async () => {
    const { calls, store } = fakeStore();
    const stale = job({ createdAt: Date.now() - 5 * settings.retryHorizonMs });
    await assert.rejects(new WebhookSender(store, unreachable, settings).attempt(stale), RetryLater);
    assert.deepEqual(calls, ['record pending']);
    assert.ok(stale.data.firstAttemptAt! >= Date.now() - 1_000);
  });

  it('at the horizon, fails the delivery and disables the endpoint only if nothing was delivered since its first attempt', async () => {
    const { calls, store } = fakeStore();
    const firstAttemptAt = Date.now() - settings.retryHorizonMs;
    await assert.rejects(new WebhookSender(store, unreachable, settings).attempt(job({ firstAttemptAt })), { name: 'UnrecoverableError' });
    assert.deepEqual(calls, ['record failed', `disable unless delivered since ${firstAttemptAt}`]);
  });

  it("stores a refusal by the egress guard without the host's resolved addresses (the tenant reads the log)", async () => {
    const attempts: WebhookDeliveryAttempt[] = [];
    const { store } = fakeStore();
    (store as unknown as { recordAttempt: unknown }).recordAttempt = async (_e: string, _d: string, attempt: WebhookDeliveryAttempt) => void attempts.push(attempt);
    const logged: object[] = [];
    const guard = new EgressGuard({ allowedHosts: parseHostRules('receiver.example').rules, allowPrivate: [], hostsSetting: 'WEBHOOK_ALLOWED_HOSTS', logger: { warn: (details) => void logged.push(details) } }, async () => [{ address: '10.1.2.3' }]);
    await assert.rejects(new WebhookSender(store, guard, settings).attempt(job({})), { name: 'UnrecoverableError' });
    assert.equal(attempts[0].error, 'Refused by the egress policy: receiver.example resolves only to addresses that are not public');
    assert.match(JSON.stringify(logged), /10\.1\.2\.3/);
  });
});
