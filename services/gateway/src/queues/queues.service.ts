import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { catalogQueues, encodePublished, eventEnvelope, type ExecutionStatus, type QueueEventType, type QueueStatsView, type QueueView, type TenantFilter } from '@conveyor/contracts';
import { ExecutionActions, ExecutionJanitor, ExecutionQueues, ExecutionStore, type ExecutionQueue } from '@conveyor/executions';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { ApiError } from '@conveyor/service';

/** Queue operations: the same effects as in Bull Board, but keeping Conveyor's records right. */
@Injectable()
export class QueuesService {
  constructor(
    private readonly queues: ExecutionQueues,
    private readonly store: ExecutionStore,
    private readonly actions: ExecutionActions,
    private readonly janitor: ExecutionJanitor,
    private readonly keys: RedisKeys,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  list(tenant: TenantFilter, withRunnable: boolean): Promise<QueueView[]> {
    return Promise.all(catalogQueues.map((name) => this.view(name, tenant, withRunnable)));
  }

  /**
   * The queue, with the counts of `tenant`'s executions (every tenant's: `null`). `runnable` is BullMQ's
   * waiting and prioritized jobs: a held or paused execution is parked among the delayed ones, so it is
   * not there. BullMQ's lists are not split by tenant: only an admin is shown it.
   */
  async view(name: string, tenant: TenantFilter = null, withRunnable = true): Promise<QueueView> {
    const queue = this.get(name);
    const [paused, concurrency, counts, completed, failed, lists] = await Promise.all([
      queue.isPaused(),
      queue.getGlobalConcurrency(),
      this.store.statusCounts([name], tenant),
      queue.getMetrics('completed', 0, 0),
      queue.getMetrics('failed', 0, 0),
      withRunnable ? queue.getJobCounts('wait', 'prioritized') : null,
    ]);
    return {
      name,
      paused,
      concurrency: concurrency ?? null,
      counts,
      perMinute: { completed: completed.data[0] ?? 0, failed: failed.data[0] ?? 0 },
      runnable: lists === null ? null : paused ? 0 : (lists.wait ?? 0) + (lists.prioritized ?? 0),
    };
  }

  /** The queue's last hour, minute by minute, of `tenant`'s executions (every tenant's, summed: `null`). */
  async stats(name: string, tenant: TenantFilter): Promise<QueueStatsView> {
    this.get(name);
    const now = Date.now();
    const minutes = await this.store.queueStats(name, tenant === null ? await this.store.tenantsIn(name) : [tenant], now);
    return { queue: name, tenant, from: minutes[0].at, to: new Date(now).toISOString(), minutes };
  }

  async pause(name: string): Promise<QueueView> {
    await this.get(name).pause();
    await this.announce(name, 'queue.paused');
    return this.view(name);
  }

  async resume(name: string): Promise<QueueView> {
    await this.get(name).resume();
    await this.announce(name, 'queue.resumed');
    return this.view(name);
  }

  async setConcurrency(name: string, concurrency: number | null): Promise<QueueView> {
    const queue = this.get(name);
    await (concurrency === null ? queue.removeGlobalConcurrency() : queue.setGlobalConcurrency(concurrency));
    return this.view(name);
  }

  /** Every failed execution of the queue runs again, as `POST /v1/executions/:id/retry` would (cancelled ones stay). */
  async retryFailed(name: string): Promise<QueueView> {
    const ids = await this.redis.zrange(this.keys.finished(name), '0', '-1');
    for (const id of ids) {
      const record = await this.store.read(name, id);
      if (record?.status === 'failed') await this.actions.retry(id, record.tenant);
    }
    return this.view(name);
  }

  async clean(name: string, status: ExecutionStatus, olderThanMs = 0, limit = 1000): Promise<{ removed: number }> {
    this.get(name);
    return { removed: await this.janitor.removeFinished(name, { status, endedBefore: Date.now() - olderThanMs, limit }) };
  }

  /** Tells the monitors; the event has no tenant (`''`), each monitor delivers it to every tenant's rooms of the queue. */
  private async announce(name: string, type: Exclude<QueueEventType, 'queue.counts'>): Promise<void> {
    await this.redis.spublish(this.keys.eventsChannel(name), encodePublished(eventEnvelope({ type, queue: name, tenant: '', data: {} })));
  }

  private get(name: string): ExecutionQueue {
    if (!catalogQueues.includes(name)) throw ApiError.notFound(`Queue ${name}`);
    return this.queues.get(name);
  }
}
