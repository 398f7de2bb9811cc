import type { JobsOptions } from 'bullmq';

/** What a delivery job carries: enough to send it without reading the event again. */
export interface DeliveryJobData {
  endpointId: string;
  /** Also the job's id and the `Conveyor-Delivery` header. */
  deliveryId: string;
  eventType: string;
  subjectId: string;
  /** The event envelope's JSON, sent as it is (the signature covers these exact bytes). */
  body: string;
  /** When the event was recorded (epoch ms): the delivery log's order. */
  createdAt: number;
  /** When the delivery was first attempted (epoch ms), set by that attempt: its retry horizon runs from here, not from the event, so a relay's backlog does not eat it. */
  firstAttemptAt?: number;
}

/** The type of backoff whose wait each failed attempt plans itself (see `RetryLater`). */
export const deliveryBackoffType = 'webhook';

/** Retries are planned by the delivery, not counted: the horizon ends them long before this. */
const unboundedAttempts = 1_000_000;

/**
 * The options of a delivery job. Its id is the delivery's, so a second add of it (a relay that died
 * before acknowledging its outbox entry) is ignored; finished jobs stay for the horizon to keep it so.
 */
export function deliveryJobOptions(deliveryId: string, keepMs: number): JobsOptions {
  const keep = { age: Math.ceil(keepMs / 1000) };
  return { jobId: deliveryId, attempts: unboundedAttempts, backoff: { type: deliveryBackoffType }, removeOnComplete: keep, removeOnFail: keep };
}

/** A delivery's id: the endpoint, the event's subject (execution or schedule) and its `seq`. BullMQ refuses `:` in job ids. */
export const deliveryIdOf = (endpointId: string, subjectId: string, seq: number | string) => `${endpointId}.${subjectId}.${seq}`;
