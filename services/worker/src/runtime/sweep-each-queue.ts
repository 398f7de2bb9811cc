import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import type { Logger } from '@conveyor/service';
import { executionQueuesOf } from '../worker-config.js';

export interface QueueSweep {
  /** Named in the warning when a sweep fails. */
  what: string;
  intervalMs: number;
  /** The queue's lock: whoever takes it sweeps the queue this interval. */
  lock: (queue: string) => string;
  sweep: (queue: string) => Promise<void>;
}

/** Sweeps each consumed queue every interval, one worker at a time; returns what stops it. */
export function sweepEachQueue(config: WorkerConfig, redis: Redis, logger: Logger, { what, intervalMs, lock, sweep }: QueueSweep): () => void {
  const timer = setInterval(async () => {
    for (const queue of executionQueuesOf(config)) {
      try {
        await onceAnInterval(redis, lock(queue), intervalMs, () => sweep(queue));
      } catch (err) {
        logger.warn({ err, queue }, `${what} failed; trying again next interval`);
      }
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Runs `work` if this process is the one to take `lock`, which it then holds for `holdMs` (none other runs it meanwhile). */
export async function onceAnInterval(redis: Redis, lock: string, holdMs: number, work: () => Promise<void>): Promise<void> {
  const mine = await redis.set(lock, randomUUID(), 'PX', holdMs, 'NX');
  if (mine) await work();
}
