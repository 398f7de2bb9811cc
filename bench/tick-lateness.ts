// Schedule tick lateness: 20 schedules firing every second, 10 ticks each, through Conveyor (tick job →
// rules → an execution → a worker starts it) beside plain BullMQ job schedulers whose jobs are the work
// itself. Lateness = start of the work − the tick's scheduled time.
import { Queue, Worker } from 'bullmq';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { ApiClient, poll } from '@conveyor/testing';
import { percentiles } from './common.js';

const schedules = 20;
const ticks = 10;
const everyMs = 1000;

export async function tickLateness(redis: RedisServer): Promise<void> {
  const plain = await plainSchedulers(redis);
  const conveyor = await conveyorSchedules(redis);
  console.log(`\nschedule tick lateness: ${schedules} schedules × ${ticks} ticks, every ${everyMs} ms (scheduled time → work starts)`);
  console.log(`  plain BullMQ job schedulers    p50 ${plain.p50.toFixed(0).padStart(5)} ms   p99 ${plain.p99.toFixed(0).padStart(5)} ms`);
  console.log(`  Conveyor schedules             p50 ${conveyor.p50.toFixed(0).padStart(5)} ms   p99 ${conveyor.p99.toFixed(0).padStart(5)} ms`);
}

async function plainSchedulers(redis: RedisServer) {
  const connection = createRedis({ url: redis.url, prefix: 'plain-ticks' }, 'worker');
  const queue = new Queue('plain-ticks', { connection, prefix: 'plain-ticks' });
  const lateness: number[] = [];
  const workerConnection = connection.duplicate();
  const worker = new Worker(
    'plain-ticks',
    async (job) => void lateness.push(Date.now() - Number(/:(\d+)$/.exec(job.id ?? '')?.[1])),
    { connection: workerConnection, prefix: 'plain-ticks', concurrency: 10 },
  );
  for (let i = 0; i < schedules; i++) await queue.upsertJobScheduler(`s${i}`, { every: everyMs, limit: ticks, startDate: Date.now() + everyMs }, { name: 'tick' });
  await poll(async () => lateness.length, { until: (n) => n >= schedules * ticks, label: 'plain ticks', timeoutMs: 60_000, intervalMs: 100 });
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  workerConnection.disconnect();
  connection.disconnect();
  return percentiles(lateness);
}

async function conveyorSchedules(redis: RedisServer) {
  const env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: 'conveyor-ticks', LOG_LEVEL: 'warn' };
  const [gateway, worker] = await Promise.all([startService('gateway', { ...env, GATEWAY_PORT: '0' }), startService('worker', env)]);
  const api = new ApiClient(gateway.url!);
  const ids: string[] = [];
  for (let i = 0; i < schedules; i++) {
    ids.push((await api.post('/v1/schedules', { name: `s${i}`, task: 'demo.noop', every: everyMs, limit: ticks, overlap: 'allow' })).body.id);
  }
  const runs = await poll(
    async () => (await Promise.all(ids.map(async (id) => (await api.get(`/v1/schedules/${id}/runs?limit=500`)).body.items))).flat(),
    { until: (all) => all.length >= schedules * ticks && all.every((run: { startedAt: string | null }) => run.startedAt), label: 'Conveyor ticks', timeoutMs: 60_000, intervalMs: 200 },
  );
  await Promise.all([gateway.process.stop(), worker.process.stop()]);
  return percentiles(runs.map((run: { startedAt: string; scheduledFor: string }) => Date.parse(run.startedAt) - Date.parse(run.scheduledFor)));
}
