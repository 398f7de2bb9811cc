// Worker throughput: the same 20,000 demo.noop executions on the same Redis, through Conveyor's
// worker (a real worker process: validation, context, events, records) and through a plain BullMQ
// worker with the same concurrency. Both queues are filled first; the clock runs from the moment the
// worker is ready until the queue's completed count reaches N.
import { Queue, Worker } from 'bullmq';
import { demoNoop } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { poll } from '@conveyor/testing';
import { figure } from './common.js';
import { metricsCallCost } from './metrics-calls.js';

const total = Number(process.env.BENCH_JOBS ?? 20_000);
const concurrency = 10;
const payload = { payload: { text: 'x'.repeat(64) } };

export async function workerThroughput(redis: RedisServer): Promise<void> {
  const plain = await plainBullmq(redis);
  const conveyor = await conveyorWorker(redis, 'info', true);
  const quiet = await conveyorWorker(redis, 'warn', true);
  const unmetered = await conveyorWorker(redis, 'warn', false);
  console.log(`\nworker throughput: ${total} demo.noop executions, concurrency ${concurrency}, same Redis`);
  console.log(`  plain BullMQ worker                ${plain.toFixed(0).padStart(7)} jobs/s`);
  console.log(`  Conveyor worker (logs at info)     ${conveyor.toFixed(0).padStart(7)} jobs/s   (${(conveyor / plain).toFixed(2)} × plain)`);
  console.log(`  … logs at warn (no line a run)     ${quiet.toFixed(0).padStart(7)} jobs/s   (${(quiet / plain).toFixed(2)} × plain)`);
  console.log(`  … logs at warn, metrics off        ${unmetered.toFixed(0).padStart(7)} jobs/s   (${(unmetered / plain).toFixed(2)} × plain; metrics cost ${costPerRun(unmetered, quiet)} per execution)`);
  console.log(`  … the metrics calls of an execution, timed alone: ${metricsCallCost().perExecution.toFixed(2)} µs`);
  figure('worker-throughput', conveyor / plain, 'plain BullMQ Worker', `${conveyor.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('worker-throughput-quiet', quiet / plain, 'plain BullMQ Worker', `${quiet.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('worker-throughput-unmetered', unmetered / plain, 'plain BullMQ Worker', `${unmetered.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
}

/** Microseconds of worker time per execution that the `slower` rate spends beyond the `faster` one. */
function costPerRun(faster: number, slower: number): string {
  return `≈ ${Math.round((1 / slower - 1 / faster) * 1e6)} µs`;
}

async function untilCompleted(queue: Queue): Promise<void> {
  await poll(() => queue.getCompletedCount(), { until: (n) => n >= total, label: `${total} completed`, timeoutMs: 600_000, intervalMs: 20 });
}

async function plainBullmq(redis: RedisServer): Promise<number> {
  const connection = createRedis({ url: redis.url, prefix: 'plain' }, 'worker');
  const queue = new Queue('plain', { connection, prefix: 'plain' });
  for (let i = 0; i < total; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, total - i) }, () => ({ name: 'demo.noop', data: payload })));
  }
  const workerConnection = connection.duplicate();
  const started = performance.now();
  const worker = new Worker('plain', async (job) => job.data, { connection: workerConnection, prefix: 'plain', concurrency });
  await untilCompleted(queue);
  const rate = total / ((performance.now() - started) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  workerConnection.disconnect();
  connection.disconnect();
  return rate;
}

async function conveyorWorker(redis: RedisServer, logLevel: 'info' | 'warn', metrics: boolean): Promise<number> {
  const config = { url: redis.url, prefix: `conveyor-bench-${logLevel}${metrics ? '' : '-unmetered'}` };
  const connection = createRedis(config, 'worker');
  const { queues, submitter } = createExecutionsCore(connection, config.prefix);
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next++ < total) await submitter.submit({ task: demoNoop, input: payload, options: {} }, 'default');
    }),
  );
  const worker = await startService('worker', {
    REDIS_URL: redis.url,
    CONVEYOR_PREFIX: config.prefix,
    WORKER_QUEUES: demoNoop.queue,
    WORKER_CONCURRENCY: String(concurrency),
    LOG_LEVEL: logLevel,
    CONVEYOR_METRICS: String(metrics),
  });
  const started = performance.now();
  await untilCompleted(queues.get(demoNoop.queue));
  const rate = total / ((performance.now() - started) / 1000);
  await worker.process.stop();
  await queues.close();
  connection.disconnect();
  return rate;
}
