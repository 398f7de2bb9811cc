import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { defineConveyorScripts } from '@conveyor/redis';
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
 * sweep still going); returns what stops it.
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
 * Runs `work` if this process is the one to take `lock`, which it then holds for `holdMs`, or for as
 * long as `work` runs if longer (none other runs it meanwhile), and no longer: the next interval's turn
 * finds it free.
 */
export async function onceAnInterval(redis: Redis, lock: string, holdMs: number, work: () => Promise<void>): Promise<void> {
  const token = randomUUID();
  const start = Date.now();
  if (!(await defineConveyorScripts(redis).set(lock, token, 'PX', holdMs, 'NX'))) return;
  // A renewal lost to a Redis outage or a stall lets another process take the lock beside this turn;
  // renewals then stop, and leave the lock to it.
  const renewal = setInterval(() => {
    redis.conveyorHoldLock(lock, token, holdMs).then((held) => held || clearInterval(renewal), () => undefined);
  }, holdMs / 3);
  renewal.unref();
  try {
    await work();
  } finally {
    clearInterval(renewal);
    await redis.conveyorHoldLock(lock, token, Math.max(0, start + holdMs - Date.now())).catch(() => undefined);
  }
}

/**
 * Runs work that one process of many does at a time, for as long as it holds `lock`: every third of
 * `leaseMs` it takes the lock when it is free, and then `start`s the work, or renews its own. A
 * renewal that finds the lock gone (a stall or an outage let it lapse, and another may hold it now)
 * stops the work, until the lock is taken again; work that ends by itself (it calls `ended`) is
 * stopped at the next turn and gives the lock back, for another process or a later turn. Returns what
 * stops it all and lets the lock go.
 */
export function whileLeased(
  redis: Redis,
  lock: string,
  leaseMs: number,
  start: (ended: () => void) => Promise<() => Promise<void>>,
  onError: (err: unknown) => void,
): () => Promise<void> {
  const token = randomUUID();
  let stop: (() => Promise<void>) | null = null;
  let endedItself = false;
  let turning: Promise<void> | null = null;
  let closed = false;
  const release = () => redis.conveyorHoldLock(lock, token, 0);
  const turn = async () => {
    if (stop) {
      if (!endedItself && (await redis.conveyorHoldLock(lock, token, leaseMs))) return;
      const stopping = stop;
      stop = null;
      await stopping();
      if (endedItself) await release();
    } else if (await defineConveyorScripts(redis).set(lock, token, 'PX', leaseMs, 'NX')) {
      endedItself = false;
      // Work that could not start gives the lock back at once.
      stop = await start(() => (endedItself = true)).catch(async (err: unknown) => {
        await release();
        throw err;
      });
    }
  };
  const tick = () => {
    if (turning || closed) return;
    turning = turn()
      .catch(onError)
      .finally(() => (turning = null));
  };
  const timer = setInterval(tick, leaseMs / 3);
  timer.unref();
  tick();
  return async () => {
    closed = true;
    clearInterval(timer);
    await turning;
    if (!stop) return;
    await stop();
    await release().catch(() => undefined);
  };
}
