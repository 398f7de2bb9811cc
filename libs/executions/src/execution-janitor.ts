import type { Redis } from 'ioredis';
import type { ExecutionStatus } from '@conveyor/contracts';
import type { RedisKeys } from '@conveyor/redis';
import type { ExecutionQueues } from './execution-queues.js';
import type { ExecutionStore } from './execution-store.js';

export interface RetentionPolicy {
  maxAgeMs: number;
  /** Per queue. */
  maxCount: number;
}

/** Removes terminal executions — job, record, events, logs, checkpoint and index entries together. */
export class ExecutionJanitor {
  constructor(
    private readonly store: ExecutionStore,
    private readonly queues: ExecutionQueues,
    private readonly keys: RedisKeys,
    private readonly redis: Redis,
  ) {}

  /** Those of the queue that ended before `endedBefore` (with `status`, if given), oldest first, at most `limit`. */
  async removeFinished(queue: string, options: { endedBefore: number; status?: ExecutionStatus; limit: number }): Promise<number> {
    let removed = 0;
    let skipped = 0;
    while (removed < options.limit) {
      const ids = await this.redis.zrangebyscore(this.keys.finished(queue), '-inf', options.endedBefore, 'LIMIT', skipped, 200);
      if (ids.length === 0) break;
      for (const id of ids) {
        if (removed >= options.limit) break;
        if (await this.remove(queue, id, options.status)) removed++;
        else skipped++;
      }
    }
    return removed;
  }

  /**
   * Retention: what ended more than `maxAgeMs` ago, then the oldest beyond `maxCount`; then the tasks
   * with no execution left in their status indexes are dropped from the ones lists read (see `pruneTasks`).
   */
  async applyRetention(queue: string, policy: RetentionPolicy, now = Date.now()): Promise<number> {
    let removed = await this.removeFinished(queue, { endedBefore: now - policy.maxAgeMs, limit: Number.POSITIVE_INFINITY });
    const excess = (await this.redis.zcard(this.keys.finished(queue))) - policy.maxCount;
    if (excess > 0) {
      for (const id of await this.redis.zrange(this.keys.finished(queue), '0', String(excess - 1))) {
        if (await this.remove(queue, id)) removed++;
      }
    }
    for (const tenant of await this.store.tenantsIn(queue)) await this.store.pruneTasks(queue, tenant);
    return removed;
  }

  /** Removes one finished execution (unless it has another status than `status`); `false` when it was kept. */
  private async remove(queue: string, id: string, status?: ExecutionStatus): Promise<boolean> {
    const record = await this.store.read(queue, id);
    if (!record) {
      await this.redis.zrem(this.keys.finished(queue), id);
      return false;
    }
    if (status && record.status !== status) return false;
    await (await this.queues.get(queue).getJob(id))?.remove();
    return this.store.forget(record);
  }
}
