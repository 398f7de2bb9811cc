import type { Redis } from 'ioredis';
import {
  catalogQueues,
  executionStatuses,
  findTask,
  InvalidFieldsError,
  isId,
  limits,
  type ExecutionStatus,
  type ExecutionSummary,
  type ExecutionView,
  type ListInclude,
  type TenantFilter,
} from '@conveyor/contracts';
import { execOrThrow, type IndexDimension, type RedisKeys } from '@conveyor/redis';
import type { ExecutionReader } from './execution-reader.js';
import type { ExecutionStore } from './execution-store.js';

/** Filters of a list: values of one filter are alternatives (any of), different filters all apply. */
export interface ExecutionFilters {
  status?: ExecutionStatus[];
  task?: string[];
  queue?: string[];
  tag?: string[];
  scheduleId?: string[];
}

export interface ExecutionPage {
  items: ExecutionSummary[];
  nextCursor: string | null;
  /** Per status, the tenant's executions in the queues the filters cover (from counters, not a scan). */
  totals: Record<ExecutionStatus, number>;
}

/** Ids are read from the indexes in chunks of this many while filters drop some. */
const chunkSize = 200;

/** Filters read from list indexes of their own (status and task are one index: see `RedisKeys.statusIndex`). */
const dimensionOf: Record<'tag' | 'scheduleId', IndexDimension> = { tag: 'tag', scheduleId: 'schedule' };

/**
 * Lists executions newest first from per-queue sorted sets of ids (ULIDs sort by age). The cursor is
 * the last id returned, so concurrent submissions (newer ids) never shift later pages: nothing is
 * skipped or repeated. Each request reads the smallest matching index from the cursor on and checks
 * the other filters by set membership: no scan of all executions.
 */
export class ExecutionFinder {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly reader: ExecutionReader,
    private readonly store: ExecutionStore,
  ) {}

  /** A page of at most `limit` summaries; with `include`, they carry those fields and the page stops early at `limits.listPageBytes`. */
  async find(
    tenant: TenantFilter,
    filters: ExecutionFilters,
    limit: number,
    cursor: string | null,
    include: readonly ListInclude[] = [],
  ): Promise<ExecutionPage> {
    const after = cursor === null ? null : decodeCursor(cursor);
    if (cursor !== null && after === null) throw new InvalidFieldsError([{ path: 'cursor', message: 'must be a cursor from a previous page' }]);
    const queues = queuesFor(filters);
    const sources = await this.sourcesOf(queues, tenant);
    const perQueue = await Promise.all(sources.map(async ({ queue, tenant }) => ({ queue, ids: await this.idsIn(queue, tenant, filters, limit + 1, after) })));
    const found = perQueue
      .flatMap(({ queue, ids }) => ids.map((id) => ({ queue, id })))
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    const page = found.slice(0, limit);
    const read = include.length > 0
      ? async (queue: string, id: string) => { const view = await this.reader.getIn(queue, id); return view && summaryOf(view, include); }
      : (queue: string, id: string) => this.reader.getSummaryIn(queue, id);
    const [summaries, totals] = await Promise.all([Promise.all(page.map(({ queue, id }) => read(queue, id))), this.store.statusCounts(queues, tenant)]);
    const items: ExecutionSummary[] = [];
    let bytes = 0;
    for (const [i, item] of summaries.entries()) {
      if (!item) continue;
      if (include.length > 0) bytes += Buffer.byteLength(JSON.stringify(item));
      // The next page starts after the last item sent (at least one is, however large).
      if (bytes > limits.listPageBytes && items.length > 0) return { items, nextCursor: encodeCursor(page[i - 1].id), totals };
      items.push(item);
    }
    return { items, nextCursor: found.length > limit ? encodeCursor(page[page.length - 1].id) : null, totals };
  }

  /** The queue and tenant pairs whose indexes a list reads: every tenant's of each queue for an admin's list. */
  private async sourcesOf(queues: readonly string[], tenant: TenantFilter): Promise<{ queue: string; tenant: string }[]> {
    if (tenant !== null) return queues.map((queue) => ({ queue, tenant }));
    const tenantsPerQueue = await Promise.all(queues.map((queue) => this.store.tenantsIn(queue)));
    return queues.flatMap((queue, i) => tenantsPerQueue[i].map((tenant) => ({ queue, tenant })));
  }

  /** Up to `wanted` ids of the queue matching the filters, newest first, older than `after`. */
  private async idsIn(queue: string, tenant: string, filters: ExecutionFilters, wanted: number, after: string | null): Promise<string[]> {
    const statuses = filters.status ?? executionStatuses;
    const tasks = filters.task ?? (await this.store.tasksIn(queue, tenant));
    // Every execution is in exactly one index of a status and task; an earlier version's, in one of its
    // status (whatever its task) and one of its task. Those only drain: one found empty stays so.
    const earlierByStatus = statuses.map((status) => this.keys.index(queue, tenant, 'status', status));
    const earlierByTask = (filters.task ?? []).map((task) => this.keys.index(queue, tenant, 'task', task));
    const dimensions = [
      statuses.flatMap((status) => this.keys.statusIndexesOf(queue, tenant, status, tasks)),
      ...(Object.keys(dimensionOf) as (keyof typeof dimensionOf)[])
        .filter((name) => filters[name] !== undefined)
        .map((name) => filters[name]!.map((value) => this.keys.index(queue, tenant, dimensionOf[name], value))),
    ];
    const sizes = new Map(await Promise.all([...new Set([...dimensions.flat(), ...earlierByTask])].map(async (key) => [key, await this.redis.zcard(key)] as const)));
    const drained = (key: string) => (earlierByStatus.includes(key) || earlierByTask.includes(key)) && sizes.get(key) === 0;
    dimensions[0] = dimensions[0].filter((key) => !drained(key));
    // An earlier version's execution left in an index of its status is of any task: the index of its task says which.
    if (filters.task && earlierByStatus.some((key) => !drained(key))) {
      dimensions.push([...dimensions[0].filter((key) => !earlierByStatus.includes(key)), ...earlierByTask.filter((key) => !drained(key))]);
    }
    const total = (keys: string[]) => keys.reduce((sum, key) => sum + sizes.get(key)!, 0);
    const driver = dimensions.reduce((smallest, keys) => (total(keys) < total(smallest) ? keys : smallest));
    const checks = dimensions.filter((keys) => keys !== driver);

    const found: string[] = [];
    let from = after;
    // Without checks every id read is found: read no more than wanted.
    const count = checks.length === 0 ? wanted : chunkSize;
    while (found.length < wanted) {
      const chunk = await this.newestIn(driver, from, count);
      found.push(...(await this.matching(checks, chunk)));
      if (chunk.length < count) break;
      from = chunk[chunk.length - 1];
    }
    return found.slice(0, wanted);
  }

  /**
   * The newest `count` ids older than `before` in the union of `keys`, read in one transaction: an
   * execution that moves from one status index to another meanwhile is seen in exactly one of them.
   */
  private async newestIn(keys: string[], before: string | null, count: number): Promise<string[]> {
    const max = before === null ? '+' : `(${before}`;
    const transaction = this.redis.multi();
    for (const key of keys) transaction.zrange(key, max, '-', 'BYLEX', 'REV', 'LIMIT', 0, count);
    const ranges = (await execOrThrow(transaction)) as string[][];
    return [...new Set(ranges.flat())].sort().reverse().slice(0, count);
  }

  /** The ids that are in at least one key of every check. */
  private async matching(checks: string[][], ids: string[]): Promise<string[]> {
    if (ids.length === 0 || checks.length === 0) return ids;
    const memberships = await Promise.all(
      checks.map(async (keys) => {
        const scores = await Promise.all(keys.map((key) => this.redis.zmscore(key, ...ids)));
        return ids.map((_, i) => scores.some((perKey) => perKey[i] !== null));
      }),
    );
    return ids.filter((_, i) => memberships.every((inCheck) => inCheck[i]));
  }
}

function summaryOf({ input, result, ...summary }: ExecutionView, include: readonly ListInclude[]): ExecutionSummary {
  return { ...summary, ...(include.includes('input') ? { input } : {}), ...(include.includes('result') ? { result } : {}) };
}

/** The queues a list must look at: those named, or those of the tasks named, else all. */
function queuesFor(filters: ExecutionFilters): string[] {
  const ofTasks = filters.task?.map((name) => findTask(name)?.queue).filter((queue): queue is string => queue !== undefined);
  return catalogQueues.filter((queue) => (!filters.queue || filters.queue.includes(queue)) && (!ofTasks || ofTasks.includes(queue)));
}

export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

/** The id a cursor stands for; `null` when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  const id = Buffer.from(cursor, 'base64url').toString();
  return isId('execution', id) ? id : null;
}
