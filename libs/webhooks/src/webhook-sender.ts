import { UnrecoverableError, type Job } from 'bullmq';
import { deliveryHeader, NonRetryableError, signatureHeader, signWebhook, type WebhookDeliveryAttempt } from '@conveyor/contracts';
import { sendEgressRequest, type EgressGuard } from '@conveyor/egress';
import { isRetryable, parseRetryAfter, retryWait } from './delivery-policy.js';
import type { DeliveryJobData } from './delivery-job.js';
import { WebhookStore } from './webhook-store.js';

/** How long a receiver has to answer one attempt. */
export const attemptTimeoutMs = 10_000;
/** How much of an answer is read: the excerpt kept in the delivery log (the rest is never downloaded). */
export const responseExcerptBytes = 1024;

/** Thrown to retry a delivery after the wait it planned (the worker's backoff strategy reads it). */
export class RetryLater extends Error {
  constructor(
    readonly waitMs: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The wait before a delivery's next attempt, for the worker's backoff strategy: the one the attempt
 * planned (`RetryLater`), else — an unplanned error, such as Redis failing for a moment while the
 * endpoint is read or an attempt recorded — the normal doubling within the horizon; -1 (fail for
 * good) only once the horizon is over. `UnrecoverableError`s never reach a backoff strategy.
 */
export function deliveryBackoff(attemptsMade: number, error: Error | undefined, job: Pick<Job<DeliveryJobData>, 'data' | 'timestamp'>, settings: DeliverySettings, now = Date.now()): number {
  if (error instanceof RetryLater) return error.waitMs;
  // Failed before its first attempt was noted: the horizon runs from when the relay queued it.
  const start = job.data.firstAttemptAt ?? job.timestamp;
  return retryWait(attemptsMade, settings.retryBaseMs, start + settings.retryHorizonMs - now, null) ?? -1;
}

export interface DeliverySettings {
  retryBaseMs: number;
  retryHorizonMs: number;
}

/**
 * Makes one attempt of a delivery: a signed JSON POST of the envelope, through the egress guard.
 * Each attempt is recorded; network errors, 408, 429 and 5xx are retried (`RetryLater`) until the
 * horizon (from the first attempt) ends; the endpoint is then disabled unless another delivery to it
 * succeeded meanwhile. Other answers end the delivery. A disabled or deleted endpoint gets nothing more.
 */
export class WebhookSender {
  constructor(
    private readonly store: WebhookStore,
    private readonly guard: EgressGuard,
    private readonly settings: DeliverySettings,
  ) {}

  async attempt(job: Pick<Job<DeliveryJobData>, 'data' | 'attemptsMade' | 'updateData'>): Promise<void> {
    if (job.data.firstAttemptAt === undefined) await job.updateData({ ...job.data, firstAttemptAt: Date.now() });
    const { endpointId, deliveryId, body, firstAttemptAt = Date.now() } = job.data;
    const endpoint = await this.store.read(endpointId);
    if (!endpoint?.enabled) {
      await this.store.recordAttempt(endpointId, deliveryId, null, 'failed');
      return;
    }
    const at = Date.now();
    let statusCode: number | null = null;
    let excerpt = '';
    let error: string | undefined;
    let retryAfterMs: number | null = null;
    let refused = false;
    try {
      const target = await this.guard.check(new URL(endpoint.url));
      const response = await sendEgressRequest(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Conveyor-Webhooks/1',
          [signatureHeader]: await signWebhook(body, WebhookStore.signingSecrets(endpoint)),
          [deliveryHeader]: deliveryId,
        },
        body,
        signal: AbortSignal.timeout(attemptTimeoutMs),
        maxBodyBytes: responseExcerptBytes,
      });
      statusCode = response.status;
      excerpt = response.body.toString('utf8');
      retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      // The guard's refusals (host not listed, private address) hold for every retry.
      refused = failure instanceof NonRetryableError;
    }
    const attempt: WebhookDeliveryAttempt = { at: new Date(at).toISOString(), statusCode, durationMs: Date.now() - at, ...(error ? { error } : {}), responseExcerpt: excerpt };
    if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
      await this.store.markDelivered(endpointId, Date.now());
      await this.store.recordAttempt(endpointId, deliveryId, attempt, 'delivered');
      return;
    }
    const outcome = error ?? `HTTP ${statusCode}`;
    if (refused || !isRetryable(statusCode)) {
      await this.store.recordAttempt(endpointId, deliveryId, attempt, 'failed');
      throw new UnrecoverableError(`Not retried: ${outcome}`);
    }
    const wait = retryWait(job.attemptsMade + 1, this.settings.retryBaseMs, firstAttemptAt + this.settings.retryHorizonMs - Date.now(), retryAfterMs);
    if (wait === null) {
      await this.store.recordAttempt(endpointId, deliveryId, attempt, 'failed');
      // The endpoint is failing for the whole horizon only if nothing was delivered to it since this delivery's first attempt.
      const reason = `Delivery ${deliveryId} failed for ${this.settings.retryHorizonMs} ms (WEBHOOK_RETRY_HORIZON_MS) with nothing delivered meanwhile; last: ${outcome}`;
      await this.store.disable(endpointId, reason, firstAttemptAt);
      throw new UnrecoverableError(`Gave up at the horizon: ${outcome}`);
    }
    await this.store.recordAttempt(endpointId, deliveryId, attempt, 'pending');
    throw new RetryLater(wait, outcome);
  }
}
