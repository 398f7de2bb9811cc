import type { QueueStatsMinute } from '@conveyor/contracts';
import { waitBucketsPerOctave } from '@conveyor/redis';

const minuteMs = 60_000;
/** How many minutes `GET /v1/queues/:name/stats` covers, the current one last. */
export const statsMinutes = 60;

/** The minute a time falls in, as the stats keys name it: epoch ms / 60,000. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / minuteMs);
}

/** The minutes of the hour up to `now`, oldest first. */
export function lastHour(now: number): number[] {
  const last = minuteOf(now);
  return Array.from({ length: statsMinutes }, (_, i) => last - statsMinutes + 1 + i);
}

/**
 * One minute from its stats hashes (one per tenant, as the scripts write them: `completed`, `failed`,
 * `w<bucket>` → count), summed. A percentile is its bucket's geometric middle, so within 9 % of the
 * true wait (a bucket spans a factor 2^(1/4)).
 */
export function foldMinute(minute: number, hashes: readonly Record<string, string>[]): QueueStatsMinute {
  const buckets = new Map<number, number>();
  let completed = 0;
  let failed = 0;
  for (const hash of hashes) {
    completed += Number(hash.completed ?? 0);
    failed += Number(hash.failed ?? 0);
    for (const [field, count] of Object.entries(hash)) {
      if (!field.startsWith('w')) continue;
      const bucket = Number(field.slice(1));
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + Number(count));
    }
  }
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const started = sorted.reduce((sum, [, count]) => sum + count, 0);
  return {
    at: new Date(minute * minuteMs).toISOString(),
    completed,
    failed,
    started,
    waitP50Ms: percentile(sorted, started, 0.5),
    waitP95Ms: percentile(sorted, started, 0.95),
  };
}

/** The nearest-rank percentile `p` of `total` waits counted in `buckets` (ascending), as its bucket's middle in ms. */
function percentile(buckets: readonly [bucket: number, count: number][], total: number, p: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(p * total);
  let seen = 0;
  const [bucket] = buckets.find(([, count]) => (seen += count) >= rank)!;
  return bucket === 0 ? 0 : Math.round(2 ** ((bucket - 0.5) / waitBucketsPerOctave));
}
