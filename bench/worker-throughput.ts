// Worker throughput: the same 20,000 demo.noop executions on the same Redis, through Conveyor's
// worker (a real worker process: validation, context, events, records) and through a plain BullMQ
// worker with the same concurrency. Both queues are filled first; the clock runs from the moment the
// worker is ready until the queue's completed count reaches N.
import { Queue } from 'bullmq';
import { demoNoop } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { alternated, figure, meanRate, submitNoops, untilCompleted } from './common.js';
import { baseline, type BaselineKind } from './event-log-floor.js';
import { metricsCallCost } from './metrics-calls.js';

const total = Number(process.env.BENCH_JOBS ?? 20_000);
const concurrency = 10;
const payload = { payload: { text: 'x'.repeat(64) } };

export async function workerThroughput(redis: RedisServer): Promise<void> {
  const { plain, floor, fork } = await alternated((kind, run) => baselineRate(redis, kind, run), meanRate);
  const conveyor = await conveyorWorker(redis, 'info', { LOG_LEVEL: 'info' });
  // Metrics on, off, off, on: the machine's drift over the run weighs on both sides alike.
  const quiet = await conveyorWorker(redis, 'warn', { LOG_LEVEL: 'warn' });
  const off = { LOG_LEVEL: 'warn', CONVEYOR_METRICS: 'false' };
  const unmetered = meanRate(await conveyorWorker(redis, 'unmetered', off), await conveyorWorker(redis, 'unmetered-2', off));
  const metered = meanRate(quiet, await conveyorWorker(redis, 'warn-2', { LOG_LEVEL: 'warn' }));
  console.log(`\nworker throughput: ${total} demo.noop executions, concurrency ${concurrency}, same Redis`);
  console.log(`  plain BullMQ worker (2 runs)       ${plain.toFixed(0).padStart(7)} jobs/s`);
  console.log(`  … + the least event log (2 runs)  ${floor.toFixed(0).padStart(7)} jobs/s   (${(floor / plain).toFixed(2)} × plain: the floor with separate event scripts)`);
  console.log(`  … + it in BullMQ's scripts (2)    ${fork.toFixed(0).padStart(7)} jobs/s   (${(fork / plain).toFixed(2)} × plain: the floor of a fork of BullMQ's scripts)`);
  console.log(`  Conveyor worker (logs at info)     ${conveyor.toFixed(0).padStart(7)} jobs/s   (${(conveyor / plain).toFixed(2)} × plain)`);
  console.log(`  … logs at warn (no line a run)     ${quiet.toFixed(0).padStart(7)} jobs/s   (${(quiet / plain).toFixed(2)} × plain)`);
  console.log(`  … logs at warn, metrics on (2 runs)  ${metered.toFixed(0).padStart(5)} jobs/s   (${(metered / plain).toFixed(2)} × plain)`);
  console.log(`  … metrics off (2 runs)             ${unmetered.toFixed(0).padStart(7)} jobs/s   (${(unmetered / plain).toFixed(2)} × plain; metrics cost ${costPerRun(unmetered, metered)} per execution)`);
  console.log(`  … the metrics calls of an execution, timed alone: ${metricsCallCost().perExecution.toFixed(2)} µs`);
  figure('worker-throughput-floor', floor / plain, 'plain BullMQ Worker', `${floor.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('worker-throughput-fork', fork / plain, 'plain BullMQ Worker', `${fork.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('worker-throughput', conveyor / plain, 'plain BullMQ Worker', `${conveyor.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('worker-throughput-quiet', quiet / plain, 'plain BullMQ Worker', `${quiet.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('worker-throughput-unmetered', unmetered / plain, 'plain BullMQ Worker', `${unmetered.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
}

/** Microseconds of worker time per execution that the `slower` rate spends beyond the `faster` one. */
function costPerRun(faster: number, slower: number): string {
  return `≈ ${Math.round((1 / slower - 1 / faster) * 1e6)} µs`;
}

/** A plain BullMQ worker's rate, or a floor's (each run recording its start and end the least costly way). */
async function baselineRate(redis: RedisServer, kind: BaselineKind, run: number): Promise<number> {
  const name = `${kind}-worker-${run}`;
  const connection = createRedis({ url: redis.url, prefix: name }, 'worker');
  const queue = new Queue(name, { connection, prefix: name });
  const jobs = baseline(kind, connection);
  for (let i = 0; i < total; i += 1000) {
    await jobs.addBulk(queue, Array.from({ length: Math.min(1000, total - i) }, () => ({ name: 'demo.noop', data: payload })));
  }
  const workerConnection = connection.duplicate();
  const started = performance.now();
  const worker = jobs.worker(name, async (job) => job.data, { connection: workerConnection, prefix: name, concurrency });
  await untilCompleted(queue, total);
  const rate = total / ((performance.now() - started) / 1000);
  await worker.close();
  // Each job's queued, running and completed events.
  await jobs.checkEvents(queue, 3 * total);
  jobs.close();
  await queue.obliterate({ force: true });
  await queue.close();
  workerConnection.disconnect();
  connection.disconnect();
  return rate;
}

/** A run of its own (`name` makes its prefix) of a worker started with `env`. */
async function conveyorWorker(redis: RedisServer, name: string, env: Record<string, string>): Promise<number> {
  const config = { url: redis.url, prefix: `conveyor-bench-${name}` };
  const connection = createRedis(config, 'worker');
  const { queues, submitter } = createExecutionsCore(connection, config.prefix);
  await submitNoops(submitter, total, payload);
  const worker = await startService('worker', {
    REDIS_URL: redis.url,
    CONVEYOR_PREFIX: config.prefix,
    WORKER_QUEUES: demoNoop.queue,
    WORKER_CONCURRENCY: String(concurrency),
    ...env,
  });
  const started = performance.now();
  await untilCompleted(queues.get(demoNoop.queue), total);
  const rate = total / ((performance.now() - started) / 1000);
  await worker.process.stop();
  await queues.close();
  connection.disconnect();
  return rate;
}
