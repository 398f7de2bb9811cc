// Schedules at scale: 1,000 schedules firing every second on one worker, their slots spread across the
// second (schedule i starts i ms into it), for a minute — through Conveyor (tick job → rules → an
// execution) beside as many plain BullMQ job schedulers, whose jobs are the work itself, on the same Redis.
// Lateness = the tick's work exists (Conveyor: the execution's `createdAt`; plain: its job starts) − the
// tick's scheduled time. Every slot should fire once: a slot with none is missed, one with two doubled.
import { Queue, Worker } from 'bullmq';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { ApiClient, poll } from '@conveyor/testing';
import { percentiles, sleep } from './common.js';

const schedules = 1000;
const ticks = 60;
const everyMs = 1000;
/** Time to register every schedule before the first slot. */
const setupMs = { plain: 3_000, conveyor: 12_000 };
/** Schedules created at once through the gateway. */
const createConcurrency = 20;

/** Slot offsets within the second, and the last time any slot may fall at (each schedule has `ticks` slots). */
function slots(firstMs: number) {
  return {
    startOf: (i: number) => firstMs + Math.floor((i * everyMs) / schedules),
    endMs: firstMs + (ticks - 1) * everyMs + everyMs - 1,
  };
}

interface Sample {
  /** The schedule's index. */
  schedule: number;
  slotMs: number;
  latenessMs: number;
}

/** Lateness, and how many slots fired, were missed or fired twice; a run off its schedule's slots is counted apart. */
interface Outcome {
  p50: number;
  p99: number;
  fired: number;
  missed: number;
  doubled: number;
  offSlot: number;
}

function outcome(all: Sample[], startOf: (i: number) => number, endMs: number): Outcome {
  // BullMQ makes one iteration past a scheduler's endDate: not a slot of the minute, left out.
  const samples = all.filter((s) => s.slotMs <= endMs);
  const onSlot = samples.filter((s) => s.slotMs >= startOf(s.schedule) && (s.slotMs - startOf(s.schedule)) % everyMs === 0);
  const seen = new Set(onSlot.map(({ schedule, slotMs }) => `${schedule}:${slotMs}`));
  return {
    ...percentiles(samples.map((s) => s.latenessMs)),
    fired: seen.size,
    missed: schedules * ticks - seen.size,
    doubled: onSlot.length - seen.size,
    offSlot: samples.length - onSlot.length,
  };
}

export async function tickLateness(redis: RedisServer): Promise<void> {
  const plain = await plainSchedulers(redis);
  const conveyor = await conveyorSchedules(redis);
  const line = (name: string, o: Outcome) =>
    `  ${name.padEnd(30)} p50 ${o.p50.toFixed(0).padStart(5)} ms   p99 ${o.p99.toFixed(0).padStart(5)} ms   fired ${o.fired}/${schedules * ticks}, missed ${o.missed}, doubled ${o.doubled}${o.offSlot ? `, ${o.offSlot} off their slots` : ''}`;
  console.log(`\nschedule tick lateness: ${schedules} schedules every ${everyMs} ms on one worker, slots spread across the second, ${ticks} ticks each (scheduled time → the tick's work exists)`);
  console.log(line('plain BullMQ job schedulers', plain));
  console.log(line('Conveyor schedules', conveyor));
  console.log(`tick-lateness: ${(conveyor.p99 / plain.p99).toFixed(2)}x plain BullMQ job schedulers (p99 ${conveyor.p99.toFixed(0)} ms vs ${plain.p99.toFixed(0)} ms)`);
}

async function plainSchedulers(redis: RedisServer): Promise<Outcome> {
  const connection = createRedis({ url: redis.url, prefix: 'plain-ticks' }, 'worker');
  const queue = new Queue('plain-ticks', { connection, prefix: 'plain-ticks' });
  const samples: Sample[] = [];
  const workerConnection = connection.duplicate();
  const worker = new Worker(
    'plain-ticks',
    async (job) => {
      const [, schedule, slot] = /^repeat:s(\d+):(\d+)$/.exec(job.id ?? '') ?? [];
      samples.push({ schedule: Number(schedule), slotMs: Number(slot), latenessMs: Date.now() - Number(slot) });
    },
    { connection: workerConnection, prefix: 'plain-ticks', concurrency: 10 },
  );
  const { startOf, endMs } = slots(Date.now() + setupMs.plain);
  await Promise.all(
    Array.from({ length: schedules }, (_, i) => queue.upsertJobScheduler(`s${i}`, { every: everyMs, startDate: startOf(i), endDate: endMs }, { name: 'tick' })),
  );
  if (Date.now() > startOf(0)) throw new Error('plain schedulers: the first slot passed before every scheduler was registered');
  await sleep(endMs - Date.now());
  await poll(async () => samples.length, { until: (n) => n >= schedules * ticks, label: 'plain ticks', timeoutMs: 5_000, intervalMs: 100 }).catch(() => undefined);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  workerConnection.disconnect();
  connection.disconnect();
  return outcome(samples, startOf, endMs);
}

async function conveyorSchedules(redis: RedisServer): Promise<Outcome> {
  // Retention keeps every run of the minute.
  const env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: 'conveyor-ticks', LOG_LEVEL: 'warn', RETENTION_MAX_COUNT: String(10 * schedules * ticks) };
  const [gateway, worker] = await Promise.all([startService('gateway', { ...env, GATEWAY_PORT: '0' }), startService('worker', env)]);
  const api = new ApiClient(gateway.url!, {}, false);
  const { startOf, endMs } = slots(Date.now() + setupMs.conveyor);
  const endAt = new Date(endMs).toISOString();
  const ids = await inBatches(schedules, createConcurrency, async (i) => {
    const created = await api.post('/v1/schedules', { name: `s${i}`, task: 'demo.noop', every: everyMs, startAt: new Date(startOf(i)).toISOString(), endAt, overlap: 'allow' });
    if (created.status !== 201) throw new Error(`creating schedule ${i}: ${created.status} ${JSON.stringify(created.body)}`);
    return created.body.id as string;
  });
  if (Date.now() > startOf(0)) throw new Error('Conveyor schedules: the first slot passed before every schedule was created');
  await sleep(endMs - Date.now());
  const runs = async () => (await api.get('/v1/schedules')).body.items.reduce((sum: number, s: { runCount: number }) => sum + s.runCount, 0);
  await poll(runs, { until: (n) => n >= schedules * ticks, label: 'Conveyor ticks', timeoutMs: 5_000, intervalMs: 250 }).catch(() => undefined);
  const samples = (
    await inBatches(ids.length, createConcurrency, async (i) => {
      const { items } = (await api.get(`/v1/schedules/${ids[i]}/runs?limit=500`)).body as { items: { scheduledFor: string; createdAt: string }[] };
      return items.map((run) => ({ schedule: i, slotMs: Date.parse(run.scheduledFor), latenessMs: Date.parse(run.createdAt) - Date.parse(run.scheduledFor) }));
    })
  ).flat();
  await Promise.all([gateway.process.stop(), worker.process.stop()]);
  return outcome(samples, startOf, endMs);
}

/** `make(i)` for i in [0, total), `concurrency` at a time, in order. */
async function inBatches<T>(total: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let start = 0; start < total; start += concurrency) {
    made.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, total - start) }, (_, k) => make(start + k)))));
  }
  return made;
}
