import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import type { Logger } from '@conveyor/service';
import { executionQueuesOf } from '../worker-config.js';

/* The worker's periodic work: timers that never overlap their own previous turn, and locks that let one worker of many do a turn. */

/**
 * Runs `work` every `ms` (and `atOnce`, at once too), skipping a turn while the previous one is still
 * going (Redis may be slow or away).
 */
export function repeat(ms: number, work: () => Promise<void>, onError: (err: unknown) => void, { atOnce = false } = {}): NodeJS.Timeout {
  let busy = false;
  const turn = () => {
    if (busy) return;
    busy = true;
    work()
      .catch(onError)
      .finally(() => (busy = false));
  };
  const timer = setInterval(turn, ms);
  timer.unref();
  if (atOnce) turn();
  return timer;
}

export interface QueueSweep {
  /** Named in the warning when a sweep fails. */
  what: string;
  intervalMs: number;
  /** The queue's lock: whoever takes it sweeps the queue this interval. */
  lock: (queue: string) => string;
  sweep: (queue: string) => Promise<void>;
}

/**
 * Sweeps each consumed queue every interval, one worker at a time (and a process never beside its own
 * sweep still going, whose lock may have expired); returns what stops it.
 */
export function sweepEachQueue(config: WorkerConfig, redis: Redis, logger: Logger, { what, intervalMs, lock, sweep }: QueueSweep): () => void {
  const failed = (err: unknown, queue?: string) => logger.warn({ err, queue }, `${what} failed; trying again next interval`);
  const timer = repeat(
    intervalMs,
    async () => {
      for (const queue of executionQueuesOf(config)) await onceAnInterval(redis, lock(queue), intervalMs, () => sweep(queue)).catch((err) => failed(err, queue));
    },
    failed,
  );
  return () => clearInterval(timer);
}

/**
 * Runs `work` if this process is the one to take `lock`, which it then holds for `holdMs`, and for as
 * long as `work` runs (none other runs it meanwhile): a turn longer than the hold renews it.
 */
export async function onceAnInterval(redis: Redis, lock: string, holdMs: number, work: () => Promise<void>): Promise<void> {
  const mine = await redis.set(lock, randomUUID(), 'PX', holdMs, 'NX');
  if (!mine) return;
  // A renewal lost to a Redis outage lets another process start beside this turn, as before renewals.
  const renewal = setInterval(() => void redis.pexpire(lock, holdMs).catch(() => undefined), holdMs / 3);
  renewal.unref();
  try {
    await work();
  } finally {
    clearInterval(renewal);
  }
}
